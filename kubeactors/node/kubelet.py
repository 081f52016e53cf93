"""The kubelet of one node: registers the Node, admits its pods and runs them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from ..actors import Actor, ActorRef
from ..api import (
    ApiError,
    ConfigMap,
    Container,
    Node,
    Pod,
    Resources,
    Secret,
    bad_request,
    format_time,
    node_allocatable,
    object_key,
)
from ..client import ApiClient, Informer
from ._admission import admit, effective_requests, untolerated
from ._backoff import BackOff
from ._env import EnvError, EnvSources, references
from ._ipam import PodAddresses
from ._logs import follow_since, lines_since, since_stamp
from ._messages import (
    ContainerChanged,
    DispatcherMessage,
    FollowLogs,
    KubeletMessage,
    NodesKnown,
    NodeUpdated,
    PodReported,
    PodsAssigned,
    ProbePod,
    ReadLogs,
    Register,
    ReportNodeStatus,
    RetryPod,
    ServicesKnown,
    SyncPod,
)
from ._node_status import allocatable_amounts, node_object, refreshed
from ._pods import ContainerRun, PodRun, PodWorkers
from ._service_env import ServiceEnvironment
from ._settings import NodeSettings
from ._shape import NodeShape, host_ip, pod_cidr
from .runtime import ContainerRuntime, ProcessRuntime, SandboxStatus, SimulatedRuntime

__all__ = ["Kubelet", "make_runtime"]

logger = logging.getLogger(__name__)

_FINISHED = ("Succeeded", "Failed")
_NOTHING = Resources(0, 0, 0)


def make_runtime(
    settings: NodeSettings,
    *,
    node: str,
    clock: Any,
    wall_clock: Callable[[], datetime],
    seed: int | str = 0,
) -> ContainerRuntime:
    """The runtime `settings.runtime` names, for node `node`."""
    if settings.runtime == "process":
        from pathlib import Path

        return ProcessRuntime(
            node=node, clock=clock, root=Path(settings.root_dir) / node, wall_clock=wall_clock
        )
    return SimulatedRuntime(
        node=node, clock=clock, wall_clock=wall_clock, profiles=settings.profiles, seed=seed
    )


class Kubelet(Actor[KubeletMessage]):
    """One node: its Node object, and the pods bound to it run through a container runtime.

    Pods reach it from the process's one `PodDispatcher`; heartbeats (the Lease and
    the periodic full status) are driven by the shared `HeartbeatHub`, so an idle
    kubelet has no timer and no task. The runtime is given from outside and
    outlives the kubelet: a restarted kubelet finds the sandboxes still running
    and adopts them instead of starting its pods again.
    """

    mailbox_size = 256

    def __init__(
        self,
        client: ApiClient,
        dispatcher: ActorRef[DispatcherMessage],
        *,
        name: str,
        index: int,
        shape: NodeShape,
        wall_clock: Callable[[], datetime],
        settings: NodeSettings | None = None,
        runtime: ContainerRuntime | None = None,
        heartbeat: ActorRef[Any] | None = None,
    ) -> None:
        self._client = client
        self._dispatcher = dispatcher
        self.name = name
        self._index = index
        self._shape = shape
        self._settings = settings if settings is not None else NodeSettings()
        loopback = self._settings.runtime == "process"
        self._cidr = pod_cidr(index, loopback=loopback)
        self._host_ip = str(host_ip(index))
        self._wall_clock = wall_clock
        self._runtime = runtime
        self._heartbeat = heartbeat
        self._runs: dict[str, PodRun] = {}
        self._node: Node | None = None
        self._allocatable = Resources(0, 0, 0)
        self._used = Resources(0, 0, 0)
        self._orphans: dict[str, SandboxStatus] = {}
        self._addresses = PodAddresses(self._cidr)
        self._services: ServiceEnvironment | None = None
        self._nodes: Informer[Node] | None = None

    @property
    def runtime(self) -> ContainerRuntime:
        assert self._runtime is not None
        return self._runtime

    # -- start --------------------------------------------------------------------------

    async def on_start(self) -> None:
        context = self.context
        if self._runtime is None:
            self._runtime = make_runtime(
                self._settings, node=self.name, clock=context.clock, wall_clock=self._wall_clock
            )
        settings = self._settings
        self._workers = PodWorkers(
            node=self.name,
            host_ip=self._host_ip,
            runtime=self.runtime,
            addresses=self._addresses,
            backoff=BackOff(settings.backoff_initial_seconds, settings.backoff_max_seconds),
            wall_clock=self._wall_clock,
            report=self._report,
            finished=self._finished,
            env_sources=self._env_sources,
        )
        self._workers.bind(context)
        me = context.self

        def on_event(event: Any) -> None:
            message = ContainerChanged(event)
            if not me.try_tell(message):
                context.start_soon(lambda: me.tell(message))

        self.runtime.listener = on_event
        self._orphans = {s.config.uid: s for s in self.runtime.list_pod_sandboxes()}
        node = node_object(
            self.name,
            shape=self._shape,
            settings=settings,
            pod_cidr=str(self._cidr),
            host_ip=self._host_ip,
            runtime_kind=self.runtime.kind,
            now=format_time(self._wall_clock()),
        )
        self._allocatable = node_allocatable(node)
        try:
            await self._client.create(node)
        except ApiError as error:
            if error.reason != "AlreadyExists":
                raise
            logger.info("node %s was registered already", self.name)
        await self._dispatcher.tell(Register(self.name, me))
        if self._heartbeat is not None:
            from .heartbeat import Track

            await self._heartbeat.tell(Track(self.name, me, status=self._node_status))

    async def on_stop(self) -> None:
        if self._runtime is not None:
            self._runtime.listener = None

    # -- messages -------------------------------------------------------------------------

    async def receive(self, message: KubeletMessage) -> None:
        match message:
            case PodsAssigned(deltas=deltas, initial=initial):
                for delta in deltas:
                    if delta.type == "DELETED":
                        self._deleted(delta.object)
                    else:
                        await self._changed(delta.object)
                if initial:
                    self._remove_orphans()
            case NodeUpdated(node=node):
                await self._node_updated(node)
            case NodesKnown(nodes=nodes):
                self._nodes = nodes
            case PodReported(key=key, pod=pod, error=error):
                await self._reported(key, pod, error)
            case RetryPod(key=key):
                run = self._runs.get(key)
                if run is not None:
                    run.reported = None
                    await self._report(run)
            case SyncPod(key=key):
                run = self._runs.get(key)
                if run is not None:
                    await self._workers.request(run)
            case ProbePod(key=key):
                probed = self._runs.get(key)
                if probed is not None:
                    self.context.start_soon(lambda: self._workers.probe(probed))
            case ContainerChanged(event=event):
                for run in self._runs.values():
                    if run.sandbox == event.sandbox_id:
                        await self._workers.request(run)
                        break
            case ReportNodeStatus():
                await self._post_node_status()
            case ReadLogs() | FollowLogs():
                self._read_logs(message)
            case ServicesKnown(services=services):
                self._services = services

    async def _changed(self, pod: Pod) -> None:
        key = object_key(pod)
        run = self._runs.get(key)
        if run is not None and run.pod.metadata.uid == pod.metadata.uid:
            run.pod = pod
            if pod.metadata.deletion_timestamp is not None and not run.terminated:
                await self._workers.request(run)
            return
        if run is not None:
            self._forget(run)  # a new pod of the same name
        run = PodRun(key, pod)
        self._runs[key] = run
        orphan = self._orphans.pop(pod.metadata.uid, None)
        if orphan is not None:
            self._adopt(run, orphan)
        elif pod.status.phase in _FINISHED:
            run.reported = pod.status  # finished before we saw it: nothing to run
            return
        else:
            if pod.status.pod_ip:
                self._addresses.adopt(key, pod.status.pod_ip)  # keep its address across restarts
            requests = effective_requests(pod)
            rejection = admit(
                pod,
                node=self.name,
                labels=self._node.metadata.labels if self._node else {},
                taints=self._node.spec.taints if self._node else self._settings.taints,
                allocatable=self._allocatable,
                used=self._used,
                requests=requests,
            )
            if rejection is not None:
                run.rejection = (rejection.reason, rejection.message)
                logger.info("%s rejected %s: %s", self.name, key, rejection.message)
            else:
                self._hold(run, requests)
        await self._workers.request(run)

    def _hold(self, run: PodRun, requests: Resources) -> None:
        run.requests = requests
        used = self._used
        self._used = Resources(
            used.cpu_millis + requests.cpu_millis,
            used.memory_bytes + requests.memory_bytes,
            used.pods + requests.pods,
        )

    def _release(self, run: PodRun) -> None:
        requests, run.requests = run.requests, _NOTHING
        used = self._used
        self._used = Resources(
            used.cpu_millis - requests.cpu_millis,
            used.memory_bytes - requests.memory_bytes,
            used.pods - requests.pods,
        )

    def _adopt(self, run: PodRun, sandbox: SandboxStatus) -> None:
        """Take over a sandbox a previous kubelet started: its address and containers."""
        run.sandbox = sandbox.id
        self._addresses.adopt(run.key, sandbox.config.ip)
        newest: dict[str, int] = {}
        for status in self.runtime.list_containers(sandbox.id):
            name = status.name
            if newest.get(name, -1) >= status.attempt:
                continue
            newest[name] = status.attempt
            init = any(c.name == name for c in run.pod.spec.init_containers)
            record = run.record(name, init)
            record.id = status.id
            record.restart_count = status.attempt
            record.started = True
            record.ready = True
        self._hold(run, effective_requests(run.pod))
        logger.info("%s adopted %s", self.name, run.key)

    def _remove_orphans(self) -> None:
        orphans, self._orphans = self._orphans, {}
        runtime = self.runtime
        if not orphans:
            return

        async def remove() -> None:
            for sandbox in orphans.values():
                logger.info("%s removes sandbox %s: its pod is gone", self.name, sandbox.id)
                await runtime.remove_pod_sandbox(sandbox.id)

        self.context.start_soon(remove)

    def _deleted(self, pod: Pod) -> None:
        run = self._runs.get(object_key(pod))
        if run is None or run.pod.metadata.uid != pod.metadata.uid:
            return
        self._forget(run)

    def _forget(self, run: PodRun) -> None:
        """The pod object is gone: stop what still runs (gracefully) and drop the record."""
        del self._runs[run.key]
        self._release(run)
        if not run.terminated:
            grace = self._workers._grace(run.pod)
            self.context.start_soon(lambda: self._workers.terminate(run, grace))

    async def _node_updated(self, node: Node) -> None:
        if node.metadata.name != self.name:
            return
        previous, self._node = self._node, node
        # Most updates are the node's own status posts: allocatable as before, and no
        # NoExecute taint (the only kind that evicts), so nothing to parse or check.
        if previous is None or allocatable_amounts(node) != allocatable_amounts(previous):
            self._allocatable = node_allocatable(node)
        if not any(taint.effect == "NoExecute" for taint in node.spec.taints):
            return
        for run in list(self._runs.values()):
            if run.terminated or run.pod.metadata.deletion_timestamp is not None:
                continue
            if untolerated(run.pod, node.spec.taints):
                await self._evict(run)

    async def _evict(self, run: PodRun) -> None:
        """A NoExecute taint the pod does not tolerate: stop it gracefully and delete it."""
        logger.info("%s evicts %s: a NoExecute taint it does not tolerate", self.name, run.key)
        meta = msgspec.structs.replace(
            run.pod.metadata, deletion_timestamp=format_time(self._wall_clock())
        )
        run.pod = msgspec.structs.replace(run.pod, metadata=meta)
        await self._workers.request(run)

    def _read_logs(self, request: ReadLogs | FollowLogs) -> None:
        try:
            ident = self._log_container(request)
        except ApiError as error:
            request.reply.fail(error)
            return
        tail, timestamps = request.tail, request.timestamps
        since = since_stamp(
            self._wall_clock().timestamp(), request.since_seconds, request.since_time
        )
        if isinstance(request, FollowLogs):
            if since is None:
                request.reply.send(
                    self.runtime.follow_logs(ident, tail=tail, timestamps=timestamps)
                )
            else:
                batches = self.runtime.follow_logs(ident, timestamps=True)
                request.reply.send(follow_since(batches, since, tail=tail, timestamps=timestamps))
        elif since is None:
            request.reply.send(self.runtime.read_logs(ident, tail=tail, timestamps=timestamps))
        else:
            lines = self.runtime.read_logs(ident, timestamps=True)
            request.reply.send(lines_since(lines, since, tail=tail, timestamps=timestamps))

    def _log_container(self, request: ReadLogs | FollowLogs) -> str:
        """The runtime's id of the container whose logs `request` asks for."""
        run = self._runs.get(f"{request.namespace}/{request.pod}")
        if run is None:
            raise ApiError.not_found("pods", request.pod)
        names = [c.name for c in run.pod.spec.containers]
        name = request.container or (names[0] if len(names) == 1 else "")
        record: ContainerRun | None = run.containers.get(name) or run.inits.get(name)
        if record is None:
            raise bad_request(
                f"a container name must be specified for pod {request.pod}, choose one of: {names}"
                if not request.container
                else f"container {request.container} is not valid for pod {request.pod}"
            )
        ident = record.previous_id if request.previous else record.id
        if not ident:
            which = "previous terminated" if request.previous else "running"
            raise bad_request(f'{which} container "{name}" in pod "{request.pod}" not found')
        return ident

    # -- container environments -----------------------------------------------------------

    async def _env_sources(self, pod: Pod, container: Container, pod_ip: str) -> EnvSources:
        """What `container`'s variables draw on: Services, and the ConfigMaps and Secrets
        it names, read from the API server when it starts (upstream's "Get" strategy)."""
        config_maps: dict[str, ConfigMap | None] = {}
        secrets: dict[str, Secret | None] = {}
        if container.env or container.env_from:  # else it refers to nothing
            config_map_names, secret_names = references(container)
            namespace = pod.metadata.namespace
            try:
                for name in sorted(config_map_names):
                    config_maps[name] = await self._get_or_none(ConfigMap, name, namespace)
                for name in sorted(secret_names):
                    secrets[name] = await self._get_or_none(Secret, name, namespace)
            except ApiError as error:
                raise EnvError(str(error)) from None
        return EnvSources(
            pod_ip=pod_ip,
            host_ip=self._host_ip,
            services=self._services.for_pod(pod) if self._services is not None else {},
            config_maps=config_maps,
            secrets=secrets,
            allocatable=self._allocatable,
        )

    async def _get_or_none(
        self, kind: type[ConfigMap] | type[Secret], name: str, namespace: str
    ) -> Any:
        try:
            return await self._client.get(kind, name, namespace)
        except ApiError as error:
            if error.reason == "NotFound":
                return None
            raise

    # -- reporting --------------------------------------------------------------------------

    async def _report(self, run: PodRun) -> None:
        """Send the pod's status if it changed; one update in flight per pod at a time."""
        if self._runs.get(run.key) is not run or run.terminated:
            return
        status = self._workers.status(run)
        if status.phase in _FINISHED and run.requests.pods:
            self._release(run)
        if status == run.reported:
            return
        if run.sending:
            run.again = True
            return
        run.sending = True
        run.reported = status
        me, key = self.context.self, run.key

        def answered(pod: Pod | None, error: BaseException | None) -> None:
            message = PodReported(key, pod, error)
            if not me.try_tell(message):
                self.context.start_soon(lambda: me.tell(message))

        # Through the status subresource, as upstream's kubelet: the API server keeps
        # the stored spec and neither defaults nor merges the whole pod again.
        updated = msgspec.structs.replace(run.pod, status=status)
        await self._client.send_update(updated, answered, subresource="status")

    async def _reported(self, key: str, pod: Pod | None, error: BaseException | None) -> None:
        run = self._runs.get(key)
        if run is None:
            return
        run.sending = False
        if pod is not None:
            if pod.metadata.uid == run.pod.metadata.uid:
                run.pod = pod
            if run.again:
                run.again = False
                await self._report(run)
            return
        if isinstance(error, ApiError) and error.reason == "NotFound":
            return  # deleted meanwhile; the dispatcher brings the DELETED event
        logger.info("reporting %s on %s failed: %s", key, self.name, error)
        run.again = False
        self.context.send_later(self._settings.status_retry_seconds, RetryPod(key))

    async def _finished(self, run: PodRun, delete: bool) -> None:
        if delete:
            meta = run.pod.metadata
            try:
                await self._client.delete(Pod, meta.name, meta.namespace)
            except ApiError as error:
                if error.reason != "NotFound":
                    raise

    def _node_status(self) -> Node | None:
        """The Node as this kubelet posts it now (None before it knows its Node): the
        heartbeat hub posts it too, in batches (see `Track`)."""
        node = self._node
        if node is None:
            return None
        # The Node as stored now (the version to write over): the dispatcher tells
        # this kubelet only of changes to what it judges pods by.
        stored = self._nodes.get(self.name) if self._nodes is not None else None
        if stored is not None:
            node = stored
        return refreshed(node, format_time(self._wall_clock()))

    async def _post_node_status(self) -> None:
        updated = self._node_status()
        if updated is None:
            return
        name = self.name

        def answered(_: Node | None, error: BaseException | None) -> None:
            if error is not None:
                logger.info("posting the status of %s failed: %s", name, error)

        await self._client.send_update(updated, answered, subresource="status")
