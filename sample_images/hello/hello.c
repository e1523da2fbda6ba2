/* hello: fallback for machines without Go (gcc -static). Same behaviour as main.go:
 * a tiny HTTP server on :8080 answering "hello from <host> (uid N)". */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(8080)};
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 16)) {
        perror("hello");
        return 1;
    }
    fprintf(stderr, "hello: listening on :8080\n");
    for (;;) {
        char req[4096], host[256] = "?", body[512], resp[1024];
        int c = accept(srv, NULL, NULL);
        if (c < 0) continue;
        if (read(c, req, sizeof req) < 0) { close(c); continue; }
        gethostname(host, sizeof host - 1);
        int n = snprintf(body, sizeof body, "hello from %s (uid %d)\n", host, (int)getuid());
        int m = snprintf(resp, sizeof resp,
                         "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", n, body);
        if (write(c, resp, m) < 0) perror("hello");
        close(c);
    }
}
