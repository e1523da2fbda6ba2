"""hello-python: the Python sibling of the hello servers (hello-python-debian sample).

Only modules of Debian's python3.11-minimal (socket, os, sys), so it runs on the bundled
distroless-python3 as well. `python3 /app/main.py --check` prints one line and exits.
"""

import os
import socket
import sys


def body() -> bytes:
    return f"hello from {socket.gethostname()} (uid {os.getuid()}, Python)\n".encode()


def main() -> int:
    if "--check" in sys.argv:
        print(f"hello-python: ok (Python {sys.version.split()[0]})")
        return 0
    port = int(os.environ.get("PORT", "8080"))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("", port))
        srv.listen(16)
        print(f"hello-python: listening on :{port}", file=sys.stderr, flush=True)
        while True:
            conn, _ = srv.accept()
            with conn:
                conn.recv(4096)
                b = body()
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                             + str(len(b)).encode() + b"\r\n\r\n" + b)


if __name__ == "__main__":
    sys.exit(main())
