/* mcpgate_spawn (include/mcpgate_spawn.h): posix_spawn with three pipes, a clean descriptor table and
 * default signal dispositions. */
#define _GNU_SOURCE
#include "mcpgate_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

/* Closes `fd` if it is open (>= 0) and marks it closed, keeping errno. */
static void close_fd(int *fd) {
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}

/* Moves `*fd` to a number >= 3 (close-on-exec), so that no child end is already one of 0, 1, 2 when
 * the dup2 actions run (the caller's own stdio may be closed). Returns 0 or an errno. */
static int raise_above_stdio(int *fd) {
    if (*fd > STDERR_FILENO) return 0;
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    if (moved < 0) return errno;
    close(*fd);
    *fd = moved;
    return 0;
}

/* One pipe2(O_CLOEXEC) with both ends above stdio. Returns 0 or an errno; on failure nothing is open. */
static int make_pipe(int ends[2]) {
    if (pipe2(ends, O_CLOEXEC) != 0) {
        ends[0] = ends[1] = -1;
        return errno;
    }
    int rc = raise_above_stdio(&ends[0]);
    if (rc == 0) rc = raise_above_stdio(&ends[1]);
    if (rc != 0) {
        close_fd(&ends[0]);
        close_fd(&ends[1]);
    }
    return rc;
}

#ifdef __APPLE__
/* macOS has no posix_spawn_file_actions_addclosefrom_np or POSIX_SPAWN_SETSID: close every other
 * descriptor with POSIX_SPAWN_CLOEXEC_DEFAULT (the dup2'd ones stay open) and lead a new process group. */
static int spawn_flags(posix_spawnattr_t *attr) {
    int rc = posix_spawnattr_setpgroup(attr, 0);
    if (rc != 0) return rc;
    return posix_spawnattr_setflags(
        attr, POSIX_SPAWN_CLOEXEC_DEFAULT | POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

static int close_from_three(posix_spawn_file_actions_t *actions) {
    (void)actions;
    return 0;
}
#else
static int spawn_flags(posix_spawnattr_t *attr) {
    return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

static int close_from_three(posix_spawn_file_actions_t *actions) {
    return posix_spawn_file_actions_addclosefrom_np(actions, STDERR_FILENO + 1);
}
#endif

/* The attributes: new session, empty signal mask, default disposition for every catchable signal. */
static int set_attributes(posix_spawnattr_t *attr) {
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    int rc = spawn_flags(attr);
    if (rc == 0) rc = posix_spawnattr_setsigmask(attr, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(attr, &all);
    return rc;
}

/* The file actions: the child ends of the pipes onto 0, 1, 2 (dup2 clears close-on-exec on the
 * target), then every descriptor from 3 up closed. */
static int set_file_actions(posix_spawn_file_actions_t *actions, int child_stdin, int child_stdout,
                            int child_stderr) {
    int rc = posix_spawn_file_actions_adddup2(actions, child_stdin, STDIN_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(actions, child_stdout, STDOUT_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(actions, child_stderr, STDERR_FILENO);
    if (rc == 0) rc = close_from_three(actions);
    return rc;
}

/* posix_spawn with the file actions and attributes above; they are destroyed on every path. */
static int spawn_child(const char *path, char *const argv[], char *const envp[], int child_stdin, int child_stdout,
                       int child_stderr, pid_t *child) {
    posix_spawn_file_actions_t actions;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    posix_spawnattr_t attr;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return rc;
    }
    rc = set_file_actions(&actions, child_stdin, child_stdout, child_stderr);
    if (rc == 0) rc = set_attributes(&attr);
    if (rc == 0) rc = posix_spawn(child, path, &actions, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int mcpgate_spawn(const char *path, char *const argv[], char *const envp[], pid_t *pid, int *stdin_w,
                  int *stdout_r, int *stderr_r) {
    if (path == NULL || argv == NULL || envp == NULL || pid == NULL || stdin_w == NULL || stdout_r == NULL ||
        stderr_r == NULL) {
        return EINVAL;
    }
    /* [0] is the read end, [1] the write end. The child reads in[0] and writes out[1] and err[1]. */
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    pid_t child = -1;
    int rc = make_pipe(in);
    if (rc == 0) rc = make_pipe(out);
    if (rc == 0) rc = make_pipe(err);
    if (rc == 0) rc = spawn_child(path, argv, envp, in[0], out[1], err[1], &child);
    /* The child holds its ends now (or there is no child): the parent keeps only its own, on success. */
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (rc != 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        return rc;
    }
    *pid = child;
    *stdin_w = in[1];
    *stdout_r = out[0];
    *stderr_r = err[0];
    return 0;
}
