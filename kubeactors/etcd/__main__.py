"""`python -m kubeactors.etcd --data-dir DIR --listen-client-urls http://127.0.0.1:2379`."""

import sys

from ._cli import main

sys.exit(main())
