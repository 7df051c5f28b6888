"""moto_server, with every call into its DynamoDB backend holding one lock.

moto 5.2.5 applies a TransactWriteItems without a lock, and when one is
refused it puts back a copy of each whole table it took before it began,
erasing whatever other requests wrote meanwhile. Two replicas racing for one
key (which the replica tests do on purpose) could then both win, where
DynamoDB serialises them. With the lock, moto's DynamoDB does too; its other
services are served as moto_server serves them.

Usage: python moto_server.py [moto_server's arguments]
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()


def _locked(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        with _lock:
            return method(*args, **kwargs)

    return call


for _name, _method in list(vars(DynamoDBBackend).items()):
    if callable(_method) and not _name.startswith("_"):
        setattr(DynamoDBBackend, _name, _locked(_method))

if __name__ == "__main__":
    sys.exit(main())
