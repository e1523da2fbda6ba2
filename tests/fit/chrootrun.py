"""Run a program of an unpacked image under ``chroot`` in a fresh network namespace (started
as ``unshare -n python chrootrun.py …``): ``ROOTFS PORT -- ARGV…``. PORT 0: run ARGV and
print its output; else start ARGV as a server, send one HTTP request to 127.0.0.1:PORT
and print the answer. Exit status: the program's (0 for an answered request)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

#: how long a server may take to listen before the run counts as failed (not a measurement)
READY_TRIES = 400


def main(argv: list[str]) -> int:
    rootfs, port, rest = argv[0], int(argv[1]), argv[3:]
    if port == 0:
        proc = subprocess.run(["chroot", rootfs, *rest], capture_output=True, text=True)
        sys.stdout.write(proc.stdout + proc.stderr)
        return proc.returncode
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = subprocess.Popen(["chroot", rootfs, *rest], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        for _ in range(READY_TRIES):
            if server.poll() is not None:
                sys.stdout.write(server.stdout.read().decode(errors="replace"))
                return server.returncode or 1
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                    answer = b""
                    while chunk := s.recv(65536):
                        answer += chunk
                sys.stdout.write(answer.decode(errors="replace"))
                return 0
            except OSError:
                time.sleep(0.05)
        return 1
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
