#!/usr/bin/env python3
"""Upstream for the soak: answers 200 "ok" to every HTTP/1.1 request.

Single process, asyncio protocol (no per-request task), keep-alive and
pipelining, bodies sized by Content-Length or chunked encoding are read and
discarded. Listens on 127.0.0.1 only.

    python3 soak/upstream.py PORT
"""

import asyncio
import signal
import sys

RESPONSE_KEEP = (b"HTTP/1.1 200 OK\r\n"
                 b"Content-Type: text/plain\r\n"
                 b"Content-Length: 2\r\n"
                 b"\r\n"
                 b"ok")
RESPONSE_CLOSE = (b"HTTP/1.1 200 OK\r\n"
                  b"Content-Type: text/plain\r\n"
                  b"Content-Length: 2\r\n"
                  b"Connection: close\r\n"
                  b"\r\n"
                  b"ok")
BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\n"
               b"Content-Length: 0\r\n"
               b"Connection: close\r\n"
               b"\r\n")
MAX_HEAD = 64 * 1024


class Answer(asyncio.Protocol):
    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.body_left = 0        # bytes of a Content-Length body still to skip
        self.chunked = False      # inside a chunked body
        self.close_after = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        out = []
        while True:
            if self.body_left:
                taken = min(self.body_left, len(self.buffer))
                del self.buffer[:taken]
                self.body_left -= taken
                if self.body_left:
                    break
                out.append(RESPONSE_CLOSE if self.close_after else RESPONSE_KEEP)
                if self.close_after:
                    break
                continue
            if self.chunked:
                if not self.skip_chunks():
                    break
                self.chunked = False
                out.append(RESPONSE_CLOSE if self.close_after else RESPONSE_KEEP)
                if self.close_after:
                    break
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    out.append(BAD_REQUEST)
                    self.close_after = True
                break
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[:end + 4]
            if not self.parse_head(head):
                out.append(BAD_REQUEST)
                self.close_after = True
                break
            if self.body_left or self.chunked:
                continue
            out.append(RESPONSE_CLOSE if self.close_after else RESPONSE_KEEP)
            if self.close_after:
                break
        if out:
            self.transport.write(b"".join(out))
        if self.close_after and not self.body_left and not self.chunked:
            self.transport.close()

    def parse_head(self, head):
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return False
        keep_alive = parts[2] == "HTTP/1.1"
        length = 0
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return False
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length":
                if not value.isdigit():
                    return False
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                self.chunked = True
            elif name == "connection":
                tokens = value.lower()
                if "close" in tokens:
                    keep_alive = False
                elif "keep-alive" in tokens:
                    keep_alive = True
        self.close_after = not keep_alive
        if not self.chunked:
            self.body_left = length
        return True

    def skip_chunks(self):
        """Drops complete chunks from the buffer; True once the last one and
        its trailer are gone."""
        while True:
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size_text = bytes(self.buffer[:line_end]).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                size = 0
            if size == 0:
                trailer_end = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return False
                del self.buffer[:trailer_end + 4]
                return True
            needed = line_end + 2 + size + 2
            if len(self.buffer) < needed:
                return False
            del self.buffer[:needed]


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answer, "127.0.0.1", port, backlog=1024, reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: upstream.py PORT")
    asyncio.run(main(int(sys.argv[1])))
