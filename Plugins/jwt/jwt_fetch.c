/*
 * jwt_fetch.c -- a small HTTP/1.1 GET client for JWKS documents, over TCP or TLS (OpenSSL).
 *
 * Used only by the JWT filter's background refresher thread, never on the request path: it blocks
 * (up to a deadline). Every wait is a poll() that also watches the filter's wake pipe, so destroying
 * the instance interrupts a fetch at once. One request per connection (`Connection: close`), no
 * redirects, no proxies; the body is read up to a byte limit and may be chunked.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "jwt_internal.h"

#define MAX_HEAD_BYTES 16384

typedef struct url_parts {
    int tls;
    char host[256];
    char port[8];
    char path[2048];
} url_parts;

typedef struct connection {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int64_t deadline_ms;
    int wake_fd;
    const atomic_int *stop;
    char *err;
    size_t err_len;
} connection;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_url(const char *url, url_parts *out, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        out->tls = 1;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else {
        snprintf(err, err_len, "expected an http:// or https:// URL");
        return -1;
    }
    size_t authority = strcspn(rest, "/?#");
    const char *path = rest + authority;
    if (authority == 0 || memchr(rest, '@', authority) != NULL) {
        snprintf(err, err_len, "URL without a host (or with user info)");
        return -1;
    }
    const char *host = rest;
    size_t host_len = authority;
    const char *port = NULL;
    size_t port_len = 0;
    if (rest[0] == '[') { /* [IPv6]:port */
        const char *close = memchr(rest, ']', authority);
        if (close == NULL) {
            snprintf(err, err_len, "bad IPv6 address in URL");
            return -1;
        }
        host = rest + 1;
        host_len = (size_t)(close - rest - 1);
        if (close + 1 < rest + authority) {
            if (close[1] != ':') {
                snprintf(err, err_len, "bad port in URL");
                return -1;
            }
            port = close + 2;
            port_len = (size_t)(rest + authority - port);
        }
    } else {
        const char *colon = memchr(rest, ':', authority);
        if (colon != NULL) {
            host_len = (size_t)(colon - rest);
            port = colon + 1;
            port_len = (size_t)(rest + authority - port);
        }
    }
    if (host_len == 0 || host_len >= sizeof out->host || (port != NULL && (port_len == 0 || port_len > 5))) {
        snprintf(err, err_len, "bad host or port in URL");
        return -1;
    }
    memcpy(out->host, host, host_len);
    if (port != NULL) {
        for (size_t i = 0; i < port_len; i++) {
            if (port[i] < '0' || port[i] > '9') {
                snprintf(err, err_len, "bad port in URL");
                return -1;
            }
        }
        memcpy(out->port, port, port_len);
    } else {
        strcpy(out->port, out->tls ? "443" : "80");
    }
    size_t path_len = strcspn(path, "#");
    if (path_len == 0) {
        strcpy(out->path, "/");
    } else if (path[0] == '?') {
        if (path_len + 1 >= sizeof out->path) {
            snprintf(err, err_len, "URL path too long");
            return -1;
        }
        out->path[0] = '/';
        memcpy(out->path + 1, path, path_len);
    } else {
        if (path_len >= sizeof out->path) {
            snprintf(err, err_len, "URL path too long");
            return -1;
        }
        memcpy(out->path, path, path_len);
    }
    for (const char *p = out->path; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(err, err_len, "URL path with spaces or control characters");
            return -1;
        }
    }
    return 0;
}

/* Waits until fd is ready for `events`. 0 ready; -1 timeout, stop or error (err filled). */
static int wait_fd(connection *c, short events) {
    for (;;) {
        int64_t left = c->deadline_ms - now_ms();
        if (left <= 0) {
            snprintf(c->err, c->err_len, "timed out");
            return -1;
        }
        struct pollfd fds[2] = {{.fd = c->fd, .events = events}, {.fd = c->wake_fd, .events = POLLIN}};
        int n = poll(fds, c->wake_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR) {
            snprintf(c->err, c->err_len, "poll: %s", strerror(errno));
            return -1;
        }
        if (c->stop != NULL && atomic_load(c->stop)) {
            snprintf(c->err, c->err_len, "stopped");
            return -1;
        }
        if (n > 0 && c->wake_fd >= 0 && (fds[1].revents & POLLIN)) {
            char drain[64];
            while (read(c->wake_fd, drain, sizeof drain) > 0) {
            }
        }
        if (n > 0 && fds[0].revents != 0) {
            return 0;
        }
    }
}

static int connect_tcp(connection *c, const url_parts *u) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(c->err, c->err_len, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (errno == EINPROGRESS) {
            c->fd = fd;
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (wait_fd(c, POLLOUT) == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
                break;
            }
            if (soerr != 0) {
                snprintf(c->err, c->err_len, "connect to %s:%s: %s", u->host, u->port, strerror(soerr));
            }
            c->fd = -1;
            if (c->stop != NULL && atomic_load(c->stop)) {
                close(fd);
                fd = -1;
                break;
            }
        } else {
            snprintf(c->err, c->err_len, "connect to %s:%s: %s", u->host, u->port, strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (c->err[0] == '\0') {
            snprintf(c->err, c->err_len, "cannot connect to %s:%s", u->host, u->port);
        }
        return -1;
    }
    c->fd = fd;
    return 0;
}

static void tls_error(connection *c, const char *what) {
    unsigned long e = ERR_peek_last_error();
    char reason[256] = "";
    if (e != 0) {
        ERR_error_string_n(e, reason, sizeof reason);
    }
    long verify = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    if (verify != X509_V_OK) {
        snprintf(c->err, c->err_len, "%s: certificate verification failed: %s", what,
                 X509_verify_cert_error_string(verify));
    } else {
        snprintf(c->err, c->err_len, "%s: %s", what, reason[0] != '\0' ? reason : "TLS error");
    }
}

/* Runs an SSL call until it completes, waiting on the socket as OpenSSL asks. */
static int tls_wait(connection *c, int ret, const char *what) {
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) {
        return wait_fd(c, POLLIN);
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        return wait_fd(c, POLLOUT);
    }
    tls_error(c, what);
    return -1;
}

static int start_tls(connection *c, const url_parts *u, const char *ca_file) {
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        tls_error(c, "TLS setup");
        return -1;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    int loaded = ca_file != NULL ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
                                 : SSL_CTX_set_default_verify_paths(c->ctx);
    if (loaded != 1) {
        tls_error(c, ca_file != NULL ? "loading caFile" : "loading the system CA store");
        return -1;
    }
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        tls_error(c, "TLS setup");
        return -1;
    }
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, u->host);
    } else {
        SSL_set_tlsext_host_name(c->ssl, u->host);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, u->host, 0);
    }
    for (;;) {
        int ret = SSL_connect(c->ssl);
        if (ret == 1) {
            return 0;
        }
        if (tls_wait(c, ret, "TLS handshake") != 0) {
            return -1;
        }
    }
}

static int send_all(connection *c, const char *data, size_t len) {
    size_t sent = 0;
    while (sent < len) {
        if (c->ssl != NULL) {
            int ret = SSL_write(c->ssl, data + sent, (int)(len - sent));
            if (ret > 0) {
                sent += (size_t)ret;
            } else if (tls_wait(c, ret, "TLS write") != 0) {
                return -1;
            }
            continue;
        }
        ssize_t n = send(c->fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(c, POLLOUT) != 0) {
                return -1;
            }
        } else {
            snprintf(c->err, c->err_len, "send: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Reads some bytes: >0 count, 0 end of stream, -1 error. */
static ssize_t receive(connection *c, char *buf, size_t cap) {
    for (;;) {
        if (c->ssl != NULL) {
            int ret = SSL_read(c->ssl, buf, (int)cap);
            if (ret > 0) {
                return ret;
            }
            int e = SSL_get_error(c->ssl, ret);
            if (e == SSL_ERROR_ZERO_RETURN) {
                return 0;
            }
            if (tls_wait(c, ret, "TLS read") != 0) {
                return -1;
            }
            continue;
        }
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n >= 0) {
            return n;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (wait_fd(c, POLLIN) != 0) {
                return -1;
            }
            continue;
        }
        snprintf(c->err, c->err_len, "recv: %s", strerror(errno));
        return -1;
    }
}

/* Decodes a chunked body in place. -1 if malformed or incomplete. */
static int dechunk(char *body, size_t len, size_t *out_len) {
    size_t in = 0, out = 0;
    for (;;) {
        char *line_end = NULL;
        for (size_t i = in; i + 1 < len; i++) {
            if (body[i] == '\r' && body[i + 1] == '\n') {
                line_end = body + i;
                break;
            }
        }
        if (line_end == NULL) {
            return -1;
        }
        size_t size = 0;
        size_t digits = 0;
        for (char *p = body + in; p < line_end && *p != ';'; p++, digits++) {
            int v = (*p >= '0' && *p <= '9')   ? *p - '0'
                    : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
                    : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
                                               : -1;
            if (v < 0 || size > (SIZE_MAX >> 4)) {
                return -1;
            }
            size = size * 16 + (size_t)v;
        }
        if (digits == 0) {
            return -1;
        }
        in = (size_t)(line_end - body) + 2;
        if (size == 0) {
            *out_len = out;
            return 0; /* trailers, if any, are ignored */
        }
        if (len - in < size + 2 || body[in + size] != '\r' || body[in + size + 1] != '\n') {
            return -1;
        }
        memmove(body + out, body + in, size);
        out += size;
        in += size + 2;
    }
}

/* Finds a header's value in the head (between the status line and the blank line). */
static const char *find_header(const char *head, const char *name, size_t *value_len) {
    size_t name_len = strlen(name);
    const char *line = strstr(head, "\r\n");
    while (line != NULL && line[2] != '\r') {
        line += 2;
        const char *end = strstr(line, "\r\n");
        if (end == NULL) {
            return NULL;
        }
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (v < end && (*v == ' ' || *v == '\t')) {
                v++;
            }
            const char *v_end = end;
            while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t')) {
                v_end--;
            }
            *value_len = (size_t)(v_end - v);
            return v;
        }
        line = end;
    }
    return NULL;
}

int jwt_http_get(const char *url, const char *ca_file, int64_t timeout_ms, int wake_fd, const atomic_int *stop,
                 size_t max_bytes, char **body_out, size_t *len_out, char *err, size_t err_len) {
    *body_out = NULL;
    *len_out = 0;
    err[0] = '\0';
    url_parts u;
    if (parse_url(url, &u, err, err_len) != 0) {
        return -1;
    }
    connection c = {.fd = -1, .deadline_ms = now_ms() + timeout_ms, .wake_fd = wake_fd, .stop = stop,
                    .err = err, .err_len = err_len};
    char *buf = NULL;
    int result = -1;
    if (connect_tcp(&c, &u) != 0 || (u.tls && start_tls(&c, &u, ca_file) != 0)) {
        goto done;
    }
    char request[2560];
    int is_v6 = strchr(u.host, ':') != NULL;
    int default_port = strcmp(u.port, u.tls ? "443" : "80") == 0;
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nAccept: application/json, application/jwk-set+json\r\n"
                     "User-Agent: mcpgate-jwt/1\r\nConnection: close\r\n\r\n",
                     u.path, is_v6 ? "[" : "", u.host, is_v6 ? "]" : "", default_port ? "" : ":",
                     default_port ? "" : u.port);
    if (n < 0 || (size_t)n >= sizeof request || send_all(&c, request, (size_t)n) != 0) {
        if (err[0] == '\0') {
            snprintf(err, err_len, "request too long");
        }
        goto done;
    }
    size_t cap = max_bytes + MAX_HEAD_BYTES + 1;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            snprintf(err, err_len, "response larger than %zu bytes", max_bytes);
            goto done;
        }
        ssize_t got = receive(&c, buf + len, cap - len);
        if (got < 0) {
            goto done;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    buf[len] = '\0';
    char *head_end = strstr(buf, "\r\n\r\n");
    if (head_end == NULL || strncmp(buf, "HTTP/1.", 7) != 0 || len < 12) {
        snprintf(err, err_len, "not an HTTP/1.x response");
        goto done;
    }
    int status = atoi(buf + 9);
    if (status != 200) {
        snprintf(err, err_len, "HTTP status %d", status);
        goto done;
    }
    head_end[2] = '\0'; /* the head ends with its last header's CRLF */
    char *body = head_end + 4;
    size_t body_len = len - (size_t)(body - buf);
    size_t value_len = 0;
    const char *te = find_header(buf, "Transfer-Encoding", &value_len);
    const char *cl = find_header(buf, "Content-Length", &value_len);
    if (te != NULL) {
        if (dechunk(body, body_len, &body_len) != 0) {
            snprintf(err, err_len, "malformed or truncated chunked body");
            goto done;
        }
    } else if (cl != NULL) {
        char *end = NULL;
        unsigned long long want = strtoull(cl, &end, 10);
        if (end == cl || want > body_len) {
            snprintf(err, err_len, "truncated body (%zu of %llu bytes)", body_len, want);
            goto done;
        }
        body_len = (size_t)want;
    }
    if (body_len > max_bytes) {
        snprintf(err, err_len, "body larger than %zu bytes", max_bytes);
        goto done;
    }
    char *out = malloc(body_len + 1);
    if (out == NULL) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    memcpy(out, body, body_len);
    out[body_len] = '\0';
    *body_out = out;
    *len_out = body_len;
    result = 0;

done:
    free(buf);
    if (c.ssl != NULL) {
        SSL_free(c.ssl);
    }
    SSL_CTX_free(c.ctx);
    if (c.fd >= 0) {
        close(c.fd);
    }
    ERR_clear_error();
    return result;
}
