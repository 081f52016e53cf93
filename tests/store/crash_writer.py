"""A writer process for the crash test: streams writes, printing each acknowledged one.

`python -m tests.store.crash_writer DB_PATH TAG` writes unique keys `TAG/<n>` with 32
requests in flight (every seventh a txn of two keys) and prints `<revision> <key>`
for each key once its write is acknowledged, until it is killed.
"""

from __future__ import annotations

import sys

import anyio

from kubeactors.actors import ActorSystem
from kubeactors.store import PutOp, Store


async def main(path: str, tag: str) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, path)
        counter = 0

        async def writer() -> None:
            nonlocal counter
            while True:
                counter += 1
                n = counter
                key = f"{tag}/{n}".encode()
                if n % 7 == 0:
                    other = key + b"/pair"
                    result = await store.txn([], [PutOp(key, b"v"), PutOp(other, b"v")])
                    print(f"{result.revision} {key.decode()}\n{result.revision} {other.decode()}")
                else:
                    put = await store.put(key, b"v")
                    print(f"{put.revision} {key.decode()}")
                sys.stdout.flush()

        async with anyio.create_task_group() as tasks:
            for _ in range(32):
                tasks.start_soon(writer)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
