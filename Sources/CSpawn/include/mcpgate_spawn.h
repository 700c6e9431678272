/*
 * mcpgate_spawn.h -- starting a `stdio` target's process (Sources/Host/Upstream/Stdio/).
 *
 * One function, so that Swift never holds a posix_spawn_file_actions_t or posix_spawnattr_t: the
 * whole sequence (pipes, file actions, attributes, spawn, cleanup) runs here, and the caller gets
 * back a pid and three descriptors or an errno.
 *
 * Why it exists rather than a plain posix_spawnp from Swift:
 *   - NIO's sockets are not close-on-exec on Linux (accept4 with SOCK_NONBLOCK only), so a naive
 *     child inherits every client connection and the listening socket. The child closes every
 *     descriptor from 3 up before exec.
 *   - NIO ignores SIGPIPE process-wide, and an ignored disposition survives exec. The child gets
 *     the default disposition for every catchable signal and an empty signal mask.
 *   - The child leads a new session (and so a new process group whose id is its pid), so the
 *     gateway can signal the whole tree with kill(-pid, sig).
 */
#ifndef MCPGATE_SPAWN_H
#define MCPGATE_SPAWN_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Starts `path` with `argv` and exactly the environment `envp`, its stdin, stdout and stderr each a
 * new pipe to the caller.
 *
 *   path      an absolute path; it is not searched in PATH (posix_spawn, not posix_spawnp).
 *   argv      NULL-terminated, argv[0] first. envp: NULL-terminated `NAME=value` entries, the
 *             child's whole environment (nothing of the caller's is inherited).
 *   pid       out: the child's pid, which is also its session and process group id.
 *   stdin_w   out: the write end of the child's stdin.
 *   stdout_r  out: the read end of the child's stdout.
 *   stderr_r  out: the read end of the child's stderr.
 *
 * Returns 0 on success: the caller owns the three descriptors (blocking, close-on-exec) and must
 * reap `pid` with waitpid. Returns an errno on failure (from pipe2, the attribute calls or
 * posix_spawn, which on glibc reports an exec failure such as ENOENT or EACCES synchronously): then
 * no child exists, every descriptor this call opened is closed, and the out parameters are unchanged.
 *
 * In the child: fds 0, 1, 2 are the pipes; every fd >= 3 is closed; it is the leader of a new
 * session; its signal mask is empty and every catchable signal has its default disposition.
 *
 * Thread-safe: it touches no global state beyond the descriptor table, and every descriptor it
 * creates is close-on-exec in the caller, so a concurrent spawn on another thread inherits none.
 */
int mcpgate_spawn(const char *path, char *const argv[], char *const envp[], pid_t *pid, int *stdin_w,
                  int *stdout_r, int *stderr_r);

#ifdef __cplusplus
}
#endif

#endif /* MCPGATE_SPAWN_H */
