"""Build kubeactors; with `KUBEACTORS_COMPILE=1`, compile its hottest modules with mypyc.

The compiled modules are the ones every write, watch event and heartbeat passes
through; everything else stays interpreted, and without the variable the whole
package is pure Python. `make` sets it (see the Makefile's `native` target) and builds
in place, against the packages of the project's virtual environment, where mypy is.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    "kubeactors/actors/_cell.py",
    "kubeactors/actors/_mailbox.py",
    "kubeactors/actors/_reply.py",
    "kubeactors/actors/_virtual.py",
    "kubeactors/api/_admission.py",
    "kubeactors/api/_auth.py",
    "kubeactors/api/_resource_version.py",
    "kubeactors/api/_server.py",
    "kubeactors/api/_update_many.py",
    "kubeactors/api/_validation.py",
    "kubeactors/api/_watch.py",
    "kubeactors/api/_writes.py",
    "kubeactors/api/_written.py",
    "kubeactors/client/_informer.py",
    "kubeactors/controllers/_base.py",
    "kubeactors/controllers/deployment.py",
    "kubeactors/controllers/garbagecollector.py",
    "kubeactors/controllers/nodelifecycle.py",
    "kubeactors/controllers/replicaset.py",
    "kubeactors/controllers/tainteviction.py",
    "kubeactors/node/_pods.py",
    "kubeactors/node/_podstatus.py",
    "kubeactors/node/heartbeat.py",
    "kubeactors/node/kubelet.py",
    "kubeactors/scheduler/_batch.py",
    "kubeactors/scheduler/_scheduler.py",
    "kubeactors/scheduler/plugins/resources.py",
    "kubeactors/scheduler/plugins/topology_spread.py",
    "kubeactors/store/_actor.py",
    "kubeactors/store/_index.py",
    "kubeactors/store/_wakeup.py",
    "kubeactors/store/_watch.py",
    "kubeactors/testing/history.py",
    "kubeactors/testing/invariants.py",
]


def _extensions() -> list[object]:
    if os.environ.get("KUBEACTORS_COMPILE", "0") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as error:
        raise SystemExit(
            "KUBEACTORS_COMPILE=1 needs mypy (mypyc) and the project's dependencies where "
            "it builds: install '.[dev]' first, then build with --no-build-isolation"
        ) from error
    # One shared runtime library inside the package (not a top-level module).
    return list(mypycify(COMPILED, opt_level="3", group_name="kubeactors._native"))


setup(ext_modules=_extensions())
