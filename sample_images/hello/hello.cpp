// hello-cpp: the C++ sibling of hello.c, for the fit demo ("a C++ program needs cc").
// Dynamically linked: libstdc++.so.6, libgcc_s.so.1 (exceptions), libm, libc.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <stdexcept>
#include <string>

static std::string body(const std::string &host) {
    return "hello from " + host + " (uid " + std::to_string(getuid()) + ", C++)\n";
}

int main() {
    try {
        int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(8080);
        setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (srv < 0 || bind(srv, reinterpret_cast<sockaddr *>(&addr), sizeof addr) || listen(srv, 16))
            throw std::runtime_error("cannot listen on :8080");
        std::cerr << "hello-cpp: listening on :8080" << std::endl;
        for (;;) {
            char req[4096], host[256] = "?";
            int c = accept(srv, nullptr, nullptr);
            if (c < 0) continue;
            if (read(c, req, sizeof req) >= 0) {
                gethostname(host, sizeof host - 1);
                std::string b = body(host);
                std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                   std::to_string(b.size()) + "\r\n\r\n" + b;
                if (write(c, resp.data(), resp.size()) < 0) std::cerr << "hello-cpp: write failed\n";
            }
            close(c);
        }
    } catch (const std::exception &e) {
        std::cerr << "hello-cpp: " << e.what() << std::endl;
        return 1;
    }
}
