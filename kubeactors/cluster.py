"""`Cluster`: a whole cluster in one process, as an async context manager."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio

from ._election import LeaderElection, LeaderElector
from ._store_latency import SetLatency, StoreLatency
from .actors import ActorRef, ActorSystem, Clock, Supervisor, VirtualClock
from .api import (
    KINDS,
    NODE_SIMULATOR,
    SYSTEM_MASTERS,
    ApiError,
    ApiRequest,
    ApiServer,
    Authorizer,
    Container,
    KindRegistry,
    Node,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceRequirements,
    TokenAuthenticator,
    component_user,
    default_authorizer,
    node_user,
)
from .client import Client, Delta, Informer
from .controllers import ControllerManager, ControllerManagerSettings
from .node import (
    DispatcherMessage,
    FollowLogs,
    HeartbeatHub,
    HeartbeatMessage,
    Kubelet,
    KubeletMessage,
    NodeSettings,
    NodeShape,
    PodDispatcher,
    ReadLogs,
    ReportNodeStatus,
    Track,
    Unregister,
    Untrack,
    make_runtime,
)
from .node.proxy import KubeProxy, ServiceTable
from .node.runtime import ContainerRuntime
from .scheduler import (
    Inspect,
    Scheduler,
    SchedulerConfiguration,
    SchedulerMessage,
    SchedulerSnapshot,
)
from .scheduler.framework import Plugin
from .store import Store, StoreRequest

if TYPE_CHECKING:
    from .http import HttpServer, LogLines, LogRequest

__all__ = ["Cluster"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=Pod | Node)


class Cluster:
    """The store, API server, scheduler and `nodes` kubelets, wired together.

    ```python
    async with Cluster(nodes=10) as cluster:
        await cluster.create_pods(100, cpu="100m", memory="128Mi")
        await cluster.wait_until_running(100)
    ```

    The store lives in a temporary directory (removed on exit) unless `data_dir`
    is given. With `serve=True` the API is also served over HTTPS at `cluster.server.url`
    (`port=0`: a free port; `tls=False`: plain HTTP, loopback only), with a kubeconfig
    at `cluster.server.kubeconfig`. Everything talks through the API server, as in Kubernetes;
    `cluster.client` is a client like any other component's.

    `store="etcd://host:port,host:port"` keeps the objects in a real etcd cluster
    instead (see docs/store.md); everything above the store runs unchanged.
    `store=":memory:"` keeps them in memory only, with no database (simulations).

    Fault hooks, for tests and simulations (`kubeactors.sim`): `add_nodes`,
    `stop_node`/`start_node` (a machine switched off and on), `partition_node`/
    `heal_node` (a kubelet cut off from the API server), and with `store_latency`
    set (0 is fine) `set_store_latency` (slow store commits).

    Every component asks the API server as its own identity, as upstream's do: each
    kubelet as `system:node:<name>`, the scheduler as `system:kube-scheduler`, the
    controller manager as `system:kube-controller-manager`, kube-proxy as
    `system:kube-proxy`. Whether that matters is the `authorizer`'s choice: None
    (the default) allows every request; `"rbac"` is kube-apiserver's
    `--authorization-mode=Node,RBAC` (with upstream's default roles and bindings
    bootstrapped), or pass any `Authorizer`. `cluster.client` acts as `kubeactors-admin`
    in `system:masters`. Bearer tokens (HTTP callers, `Client.with_token`) are checked
    against `authenticator`, which with `serve=True` defaults to the token file in the
    data directory; with an authoriser, the HTTP layer hands each caller's token to
    the API server, so RBAC decides per caller. With `serve=True` the kubeconfig goes
    to `kubeconfig` (default: in the data directory). `scheduler=False` leaves the
    scheduler out; with `nodes=0` and `controllers=False` too, the cluster is its API
    server alone (`kubeactors apiserver`). With `scheduler_election`, the scheduler
    runs only while this process holds the Lease `kube-system/kube-scheduler`, so that
    clusters sharing one etcd run one scheduler between them.

    `scheduler_config` is the scheduler's KubeSchedulerConfiguration (YAML text, a
    file, a mapping or a `SchedulerConfiguration`); `scheduler_plugins` maps names to
    out-of-tree plugin classes its profiles may enable (docs/testing.md).
    """

    def __init__(
        self,
        nodes: int = 3,
        *,
        node_shape: NodeShape | None = None,
        node_settings: NodeSettings | None = None,
        seed: int = 0,
        data_dir: str | Path | None = None,
        synchronous: str = "NORMAL",
        clock: Clock | Literal["virtual"] | None = None,
        epoch: datetime | None = None,
        ask_timeout: float = 30.0,
        controllers: bool | ControllerManagerSettings = True,
        store: str | None = None,
        serve: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        store_latency: float | None = None,
        authorizer: Authorizer | Literal["rbac"] | None = None,
        authenticator: TokenAuthenticator | None = None,
        scheduler: bool = True,
        scheduler_election: LeaderElection | None = None,
        kubeconfig: str | Path | None = None,
        scheduler_config: SchedulerConfiguration | str | Path | Mapping[str, Any] | None = None,
        scheduler_plugins: Mapping[str, type[Plugin]] | None = None,
    ) -> None:
        if nodes < 0:
            raise ValueError(f"nodes must not be negative, got {nodes}")
        self.node_count = nodes
        self.node_shape = node_shape if node_shape is not None else NodeShape()
        # The kubelets' runtime ("simulated" or "process"), labels, taints and timings.
        self.node_settings = node_settings if node_settings is not None else NodeSettings()
        self._runtimes: dict[str, ContainerRuntime] = {}
        self._kubelets: dict[str, ActorRef[KubeletMessage]] = {}
        # What each node was started with (index, shape, settings), to start it again.
        self._node_specs: dict[str, tuple[int, NodeShape, NodeSettings]] = {}
        self._stopped_nodes: set[str] = set()
        self._partitioned: set[str] = set()
        self._nodes_supervisor: Supervisor | None = None
        self._dispatcher: ActorRef[DispatcherMessage] | None = None
        if store_latency is not None and store_latency < 0:
            raise ValueError(f"store_latency must not be negative, got {store_latency}")
        self._store_latency = store_latency
        self._latency: ActorRef[StoreRequest | SetLatency] | None = None
        self.services: ServiceTable | None = None
        """kube-proxy's table: `cluster.services.resolve("web", 80)` picks a ready endpoint."""
        self.heartbeat: ActorRef[HeartbeatMessage] | None = None
        """The nodes' shared heartbeat hub; `Untrack(node)` silences a node (fault tests)."""
        self.seed = seed
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._synchronous = synchronous
        if isinstance(clock, str):
            if clock != "virtual":
                raise ValueError(f"clock must be a Clock or 'virtual', got {clock!r}")
            clock = VirtualClock()
        self._clock = clock
        self._epoch = epoch
        self._ask_timeout = ask_timeout
        # The controller manager (ReplicaSets, Deployments, node lifecycle, endpoints):
        # on by default; False leaves it out, settings choose controllers and timings.
        self._controllers = (
            controllers
            if isinstance(controllers, ControllerManagerSettings)
            else ControllerManagerSettings()
            if controllers
            else None
        )
        self.store_url = store
        """Where the objects live: None for the embedded store in the data directory."""
        self._stack: AsyncExitStack | None = None
        self._system: ActorSystem | None = None
        self._client: Client | None = None
        self._scheduler: ActorRef[SchedulerMessage] | None = None
        self._serve = (host, port, tls) if serve else None
        self._wall_clock: Callable[[], datetime] | None = None
        self.server: HttpServer | None = None
        self.kinds = KindRegistry(KINDS)
        """The kinds the API server serves: the built-in ones and those of each CRD."""
        if isinstance(authorizer, str):
            if authorizer != "rbac":
                raise ValueError(f"authorizer must be an Authorizer or 'rbac', got {authorizer!r}")
            authorizer = default_authorizer()
        self._authorizer = authorizer
        self._authenticator = authenticator
        self._run_scheduler = scheduler
        self._scheduler_election = scheduler_election
        self._scheduler_config = scheduler_config
        self._scheduler_plugins = dict(scheduler_plugins or {})
        self._kubeconfig = Path(kubeconfig) if kubeconfig is not None else None
        # The components' client, before each takes its own identity.
        self._components: Client | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> Cluster:
        async with AsyncExitStack() as stack:
            directory = self.data_dir
            if directory is None:
                temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="kubeactors-"))
                directory = Path(temporary)
            directory.mkdir(parents=True, exist_ok=True)
            # Container runtimes outlive the kubelets: closed (processes ended) last.
            stack.push_async_callback(self._close_runtimes)
            system = await stack.enter_async_context(
                ActorSystem(clock=self._clock, seed=self.seed, ask_timeout=self._ask_timeout)
            )
            self._system = system
            self._start_actors(system, directory)
            if self._serve is not None:
                from .http import HttpServer, KindIndex

                host, port, tls = self._serve
                assert self._client is not None
                assert self._wall_clock is not None
                self.server = await stack.enter_async_context(
                    HttpServer(
                        self._client,
                        directory,
                        clock=system.clock,
                        wall_clock=self._wall_clock,
                        host=host,
                        port=port,
                        tls=tls,
                        logs=self._read_logs,
                        kinds=KindIndex.following(self.kinds),
                        forward_tokens=self._authorizer is not None,
                        kubeconfig=self._kubeconfig,
                    )
                )
            self._stack = stack.pop_all()
        try:
            await self.wait_for_nodes(self.node_count)
        except BaseException as error:
            await self.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    async def _read_logs(self, request: LogRequest) -> LogLines:
        """A container's log lines, from the kubelet of the pod's node (for `pods/log`);
        when following, an iterator that the kubelet's runtime feeds as lines come."""
        kubelet = self._kubelets.get(request.node)
        if kubelet is None:
            raise ApiError.not_found("nodes", request.node)
        # The same request either way; only the answer differs (a stream when following).
        fields: dict[str, Any] = {
            "namespace": request.namespace,
            "pod": request.pod,
            "container": request.container,
            "tail": request.tail,
            "previous": request.previous,
            "timestamps": request.timestamps,
            "since_seconds": request.since_seconds,
            "since_time": request.since_time,
        }
        if request.follow:
            stream: AsyncIterator[list[str]] = await kubelet.ask(
                lambda reply: FollowLogs(**fields, reply=reply)
            )
            return stream
        lines: list[str] = await kubelet.ask(lambda reply: ReadLogs(**fields, reply=reply))
        return lines

    def _start_actors(self, system: ActorSystem, directory: Path) -> None:
        clock = system.clock
        # Wall time follows the injected clock, so a virtual clock gives reproducible
        # timestamps too; an explicit epoch counts the clock's progress from there.
        wall_clock: Callable[[], datetime] = clock.wall
        if self._epoch is not None:
            epoch, origin = self._epoch, clock.now()

            def wall_clock() -> datetime:
                return epoch + timedelta(seconds=clock.now() - origin)

        self._wall_clock = wall_clock

        if self.store_url is not None:
            store = Store.connect(system.root, self.store_url)
        else:
            store = Store.spawn(system.root, directory / "store.db", synchronous=self._synchronous)
        store_ref: ActorRef[StoreRequest] = store.ref
        if self._store_latency is not None:
            latency = self._store_latency
            self._latency = system.spawn(
                lambda: StoreLatency(store.ref, latency),
                name="store-latency",
                mailbox_size=StoreLatency.mailbox_size,
            )
            store_ref = self._latency  # type: ignore[assignment]
        authenticator = self._authenticator
        if authenticator is None and self._serve is not None:
            from .http import ensure_token_file

            tokens = directory / "tokens.csv"
            ensure_token_file(tokens)
            authenticator = TokenAuthenticator.from_file(tokens)
        authorizer = self._authorizer
        kinds = self.kinds
        api: ActorRef[ApiRequest] = system.spawn(
            lambda: ApiServer(
                store_ref,
                wall_clock=wall_clock,
                authenticator=authenticator,
                authorizer=authorizer,
                kinds=kinds,
                shared_store=(self.store_url or "").startswith("etcd://"),
            ),
            name="apiserver",
            mailbox_size=ApiServer.mailbox_size,
        )
        self._client = Client(api, user=component_user("kubeactors-admin", SYSTEM_MASTERS))
        if self.node_count == 0 and not self._run_scheduler and self._controllers is None:
            return  # the API server alone (`kubeactors apiserver`)
        client = self._components = Client(api)
        dispatcher_client = client.as_user(component_user(NODE_SIMULATOR))
        dispatcher = system.spawn(lambda: PodDispatcher(dispatcher_client), name="pod-dispatcher")
        self._dispatcher = dispatcher
        node_settings = self.node_settings
        self.heartbeat = system.spawn(
            lambda: HeartbeatHub(
                client,
                wall_clock=wall_clock,
                lease_seconds=node_settings.lease_seconds,
                lease_duration_seconds=node_settings.lease_duration_seconds,
                status_seconds=node_settings.status_seconds,
                client_for=lambda node: client.as_user(node_user(node)),
            ),
            name="node-heartbeat",
            mailbox_size=HeartbeatHub.mailbox_size,
        )
        services = self.services = ServiceTable(clock.now)
        listen = node_settings.runtime == "process"
        proxy_client = client.as_user(component_user("system:kube-proxy"))
        system.spawn(lambda: KubeProxy(proxy_client, services, listen=listen), name="kube-proxy")
        self._nodes_supervisor = system.spawn_supervisor(
            "nodes", max_restarts=max(3, self.node_count)
        )
        for _ in range(self.node_count):
            self._spawn_node(self.node_shape, node_settings)
        if self._run_scheduler:
            self._start_scheduler(system, client.as_user(component_user("system:kube-scheduler")))
        settings = self._controllers
        if settings is not None:
            controllers = system.spawn_supervisor("controllers", max_restarts=10)
            manager_client = client.as_user(component_user("system:kube-controller-manager"))
            system.spawn(
                lambda: ControllerManager(manager_client, controllers, settings, self.kinds),
                name="controller-manager",
            )

    def _start_scheduler(self, system: ActorSystem, client: Client) -> None:
        def make() -> Scheduler:
            return Scheduler(client, config=self._scheduler_config, plugins=self._scheduler_plugins)

        election = self._scheduler_election
        if election is None:
            self._scheduler = system.spawn(
                make, name="scheduler", mailbox_size=Scheduler.mailbox_size
            )
            return
        terms = iter(range(1, 1 << 62))

        def spawn(parent: Supervisor) -> ActorRef[Any]:
            # A name per term: the one stopped may still be going when the next starts.
            name = f"scheduler-{next(terms)}"
            return parent.spawn(make, name=name, mailbox_size=Scheduler.mailbox_size)

        def leading(ref: ActorRef[Any] | None) -> None:
            self._scheduler = ref

        schedulers = system.spawn_supervisor("schedulers", max_restarts=10)
        system.spawn(
            lambda: LeaderElector(
                client, schedulers, spawn, election, name="kube-scheduler", on_change=leading
            ),
            name="scheduler-election",
        )

    def _spawn_node(self, shape: NodeShape, settings: NodeSettings) -> str:
        index = len(self._node_specs)
        name = f"node-{index}"
        self._node_specs[name] = (index, shape, settings)
        self._spawn_kubelet(name)
        return name

    def _spawn_kubelet(self, name: str) -> None:
        """Start node `name`'s kubelet over a fresh runtime (no containers running)."""
        system = self.system
        assert self._components is not None
        client = self._components.as_user(node_user(name))
        assert self._nodes_supervisor is not None
        assert self._dispatcher is not None
        assert self._wall_clock is not None
        index, shape, settings = self._node_specs[name]
        runtime = make_runtime(
            settings, node=name, clock=system.clock, wall_clock=self._wall_clock, seed=self.seed
        )
        self._runtimes[name] = runtime
        dispatcher, heartbeat, wall_clock = self._dispatcher, self.heartbeat, self._wall_clock

        def make() -> Kubelet:
            return Kubelet(
                client,
                dispatcher,
                name=name,
                index=index,
                shape=shape,
                wall_clock=wall_clock,
                settings=settings,
                runtime=runtime,
                heartbeat=heartbeat,
            )

        self._kubelets[name] = self._nodes_supervisor.spawn(
            make, name=name, mailbox_size=Kubelet.mailbox_size
        )

    async def _close_runtimes(self) -> None:
        runtimes, self._runtimes = self._runtimes, {}
        for runtime in runtimes.values():
            await runtime.close()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        stack, self._stack = self._stack, None
        self._system = None
        self.server = None
        if stack is None:
            return None
        return await stack.__aexit__(exc_type, exc, traceback)

    # -- what embedding code uses --------------------------------------------------

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the cluster is not running: use `async with Cluster(...)`")
        return self._client

    @property
    def system(self) -> ActorSystem:
        if self._system is None:
            raise RuntimeError("the cluster is not running: use `async with Cluster(...)`")
        return self._system

    @property
    def clock(self) -> Clock:
        return self.system.clock

    async def create_pods(
        self,
        count: int,
        *,
        cpu: str = "100m",
        memory: str = "128Mi",
        namespace: str = "default",
        generate_name: str = "pod-",
        image: str = "registry.k8s.io/pause:3.9",
        concurrency: int = 256,
        on_created: Callable[[Pod], None] | None = None,
    ) -> list[Pod]:
        """Create `count` pods requesting `cpu` and `memory`, `concurrency` at a time."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        template = Pod(
            metadata=ObjectMeta(generate_name=generate_name, namespace=namespace),
            spec=PodSpec(
                containers=[
                    Container(
                        name="app",
                        image=image,
                        resources=ResourceRequirements(requests={"cpu": cpu, "memory": memory}),
                    )
                ]
            ),
        )
        client = self.client
        created: list[Pod] = []
        remaining = iter(range(count))

        async def worker() -> None:
            for _ in remaining:
                pod = await client.create(template)
                created.append(pod)
                if on_created is not None:
                    on_created(pod)

        async with anyio.create_task_group() as group:
            for _ in range(max(1, min(concurrency, count))):
                group.start_soon(worker)
        return created

    async def wait_until_running(
        self,
        count: int | None = None,
        *,
        timeout: float = 120.0,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """Wait until `count` pods (default: every pod that exists) are Running.

        `on_progress(running)` is called as the number of running pods changes.
        Raises `TimeoutError` after `timeout` seconds on the cluster's clock.
        """
        running: set[str] = set()

        def update(informer: Informer[Pod], deltas: list[Delta[Pod]]) -> bool:
            for delta in deltas:
                key = f"{delta.object.metadata.namespace}/{delta.object.metadata.name}"
                if delta.type != "DELETED" and delta.object.status.phase == "Running":
                    running.add(key)
                else:
                    running.discard(key)
            if on_progress is not None:
                on_progress(len(running))
            target = count if count is not None else len(informer)
            return len(running) >= target

        await self._wait_until(Pod, update, timeout, f"{count or 'all'} pods Running")

    async def wait_for_nodes(self, count: int, *, timeout: float = 120.0) -> None:
        """Wait until `count` nodes are registered."""

        def update(informer: Informer[Node], deltas: list[Delta[Node]]) -> bool:
            return len(informer) >= count

        await self._wait_until(Node, update, timeout, f"{count} nodes registered")

    async def _wait_until(
        self,
        kind: type[R],
        update: Callable[[Informer[R], list[Delta[R]]], bool],
        timeout: float,
        goal: str,
    ) -> None:
        informer: Informer[R] = Informer(self.client, kind)
        reached = anyio.Event()

        async def on_batch(deltas: list[Delta[R]]) -> None:
            if update(informer, deltas):
                reached.set()

        informer.add_batch_handler(on_batch)
        timed_out = False

        async with anyio.create_task_group() as group:

            def expire() -> None:
                nonlocal timed_out
                timed_out = True
                group.cancel_scope.cancel()

            timer = self.clock.call_later(timeout, expire)
            group.start_soon(informer.run)
            await informer.wait_synced()
            if not reached.is_set() and update(informer, []):
                reached.set()
            await reached.wait()
            timer.cancel()
            group.cancel_scope.cancel()
        if timed_out:
            raise TimeoutError(f"no {goal} after {timeout} s")

    # -- fault hooks ------------------------------------------------------------------

    @property
    def node_names(self) -> list[str]:
        """Every node this cluster started, running or stopped, in the order added."""
        return list(self._node_specs)

    async def add_nodes(
        self,
        count: int,
        *,
        shape: NodeShape | None = None,
        settings: NodeSettings | None = None,
        timeout: float = 120.0,
    ) -> list[str]:
        """Start `count` more nodes and wait until they are registered; returns their names.

        `shape` and `settings` (labels, taints, runtime profiles) default to the
        cluster's; heartbeat timings are the cluster's whatever `settings` says.
        """
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        shape = shape if shape is not None else self.node_shape
        settings = settings if settings is not None else self.node_settings
        names = [self._spawn_node(shape, settings) for _ in range(count)]
        await self.wait_for_nodes(len(self._node_specs), timeout=timeout)
        return names

    def _known(self, name: str) -> None:
        if name not in self._node_specs:
            raise KeyError(f"no node named {name!r} in this cluster")

    async def stop_node(self, name: str) -> None:
        """Switch node `name` off: its kubelet stops, its containers are gone.

        Its Node and pods stay in the API, as when a machine dies: the node
        lifecycle controller notices the silence, marks it Unknown and evicts
        its pods. Stopping a stopped node does nothing.
        """
        self._known(name)
        if name in self._stopped_nodes:
            return
        self._stopped_nodes.add(name)
        assert self.heartbeat is not None
        assert self._dispatcher is not None
        await self.heartbeat.tell(Untrack(name))
        await self._dispatcher.tell(Unregister(name))
        await self._kubelets.pop(name).stop()
        runtime = self._runtimes.pop(name, None)
        if runtime is not None:
            await runtime.close()

    async def start_node(self, name: str) -> None:
        """Switch a stopped node on again: a fresh kubelet and runtime.

        It renews its Lease at once, posts its status with the next status round
        (so it turns Ready within `status_seconds`), and starts again the pods
        still bound to it. Starting a running node does nothing.
        """
        self._known(name)
        if name not in self._stopped_nodes:
            return
        self._stopped_nodes.discard(name)
        self._partitioned.discard(name)
        self._spawn_kubelet(name)

    async def partition_node(self, name: str) -> None:
        """Cut node `name`'s heartbeats off from the API server: no Lease renewal, no status.

        Its kubelet and pods keep running (and still see their pods change), so
        the node lifecycle controller sees a silent node, as in a network partition.
        """
        self._known(name)
        if name in self._partitioned or name in self._stopped_nodes:
            return
        self._partitioned.add(name)
        assert self.heartbeat is not None
        await self.heartbeat.tell(Untrack(name))

    async def heal_node(self, name: str) -> None:
        """End `partition_node`: heartbeats resume and the status is posted at once."""
        self._known(name)
        if name not in self._partitioned:
            return
        self._partitioned.discard(name)
        assert self.heartbeat is not None
        kubelet = self._kubelets[name]
        await self.heartbeat.tell(Track(name, kubelet))
        await kubelet.tell(ReportNodeStatus())

    async def set_store_latency(self, seconds: float) -> None:
        """Delay every store request by `seconds` from now on (0: no delay).

        Needs `Cluster(store_latency=...)`, which puts the delaying actor in place.
        """
        if self._latency is None:
            raise RuntimeError("set_store_latency needs Cluster(store_latency=...) at start")
        if seconds < 0:
            raise ValueError(f"store latency must not be negative, got {seconds}")
        await self._latency.tell(SetLatency(seconds))

    async def pods(self, namespace: str = "") -> list[Pod]:
        return (await self.client.list(Pod, namespace)).items

    async def nodes(self) -> list[Node]:
        return (await self.client.list(Node)).items

    async def scheduler_snapshot(self) -> SchedulerSnapshot:
        """The scheduler's counters and queues."""
        scheduler = self._scheduler
        if scheduler is None:
            if self._system is not None and self._scheduler_election is not None:
                raise RuntimeError(
                    "the scheduler does not run here: another process leads "
                    "(Lease kube-system/kube-scheduler)"
                )
            raise RuntimeError("the cluster is not running: use `async with Cluster(...)`")
        return await scheduler.ask(Inspect)
