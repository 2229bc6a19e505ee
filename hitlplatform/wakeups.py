"""Wake-ups of the waiting requests (`wait/`, `events/`, `events/stream/`), without a thread per waiter.

Sending: `wakeup_send` in the transaction of the change (a final state, an integrator event). On
PostgreSQL it is a NOTIFY, which the database delivers at commit and drops on rollback.

Receiving: one `WakeupHub` per server process (per event loop). On PostgreSQL it holds one LISTEN
connection (psycopg's async connection) and fans each notification out to the waiters of that
proposal and of that agent. On SQLite (development, tests) nothing crosses processes, so the hub
instead polls every PROPOSAL_WAIT_POLL_SECONDS with one query for all its waiters together.

A woken waiter reads the database again: a notification says "look", never what changed, so a lost
or spurious one costs at most a read. After (re)connecting, the hub wakes everyone once, covering
whatever committed while it was not listening.
"""

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

CHANNEL = "hitl_wakeup"


def wakeup_send(*, agent_id: int, proposal_id: int) -> None:
    """Tell the waiters of this proposal and of this agent to look again, once the caller commits."""
    wakeup_send_many([(agent_id, proposal_id)])


def wakeup_send_many(pairs) -> None:
    """`wakeup_send` for many (agent id, proposal id) pairs in one statement (a sweep's batch)."""
    if connection.vendor == "postgresql" and pairs:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload",
                [CHANNEL, [f"{agent_id} {proposal_id}" for agent_id, proposal_id in pairs]],
            )
    # SQLite: the hubs poll (module docstring).


class TooManyWaits(Exception):
    """Over WAIT_MAX_PER_AGENT or WAIT_MAX_TOTAL (this process)."""


class WakeupHub:
    """The waiters of one server process, and the one listener that wakes them."""

    def __init__(self):
        self._waiters: dict[tuple[str, int], set[asyncio.Event]] = defaultdict(set)
        self._waits_by_caller: Counter = Counter()
        self._total = 0
        self._listener: asyncio.Task | None = None
        self._reads: dict = {}
        self.closing = False

    @property
    def waits(self) -> int:
        return self._total

    def has_room(self, *, caller) -> bool:
        return self._waits_by_caller[caller] < settings.WAIT_MAX_PER_AGENT and self.waits < settings.WAIT_MAX_TOTAL

    @contextlib.contextmanager
    def slot(self, *, caller):
        """One of the capped concurrent waits of `caller` (an agent); TooManyWaits beyond the caps."""
        if not self.has_room(caller=caller):
            raise TooManyWaits()
        self._waits_by_caller[caller] += 1
        self._total += 1
        try:
            yield
        finally:
            self._waits_by_caller[caller] -= 1
            self._total -= 1
            if not self._waits_by_caller[caller]:
                del self._waits_by_caller[caller]

    @contextlib.contextmanager
    def subscription(self, *, proposal_id: int | None = None, agent_id: int | None = None):
        """An event set when the proposal or the agent's events may have changed.

        Subscribe before reading the state, so that no change falls between the read and the wait.
        Leaving the block (a return, a client gone, a cancel) unsubscribes: nothing stays behind."""
        keys = [("proposal", proposal_id)] if proposal_id is not None else []
        keys += [("agent", agent_id)] if agent_id is not None else []
        woken = asyncio.Event()
        for key in keys:
            self._waiters[key].add(woken)
        self._ensure_listening()
        try:
            yield woken
        finally:
            for key in keys:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(woken)
                    if not waiters:
                        del self._waiters[key]

    async def sleep(self, woken: asyncio.Event, seconds: float) -> bool:
        """Until woken, the hub closes, or `seconds` pass (then False); clears `woken` for the next round."""
        was_woken = True
        if seconds > 0 and not self.closing and not woken.is_set():
            try:
                await asyncio.wait_for(woken.wait(), seconds)
            except TimeoutError:
                was_woken = False
        woken.clear()
        return was_woken

    async def read(self, key, function, *args):
        """`function(*args)` in the database thread; concurrent reads with the same key share one
        (three hundred waiters woken by one decision read the proposal once)."""
        pending = self._reads.get(key)
        if pending is None:
            pending = asyncio.ensure_future(database(function, *args))
            self._reads[key] = pending
            pending.add_done_callback(lambda done: self._reads.pop(key) if self._reads.get(key) is done else None)
        return await asyncio.shield(pending)

    def start(self) -> None:
        """Listen from now on (the server's start-up), not only from the first waiter on."""
        self._ensure_listening()

    def close(self) -> None:
        """The server is shutting down: every waiter answers now (streams end, clients reconnect)."""
        self.closing = True
        self._wake_all()

    def dispatch(self, payload: str) -> None:
        agent_id, _sep, proposal_id = payload.partition(" ")
        with contextlib.suppress(ValueError):
            self._wake(("agent", int(agent_id)))
            self._wake(("proposal", int(proposal_id)))

    def _wake(self, key) -> None:
        # A read begun before this change may not see it: those woken now start a new one.
        self._reads.pop(key, None)
        for woken in self._waiters.get(key, ()):
            woken.set()

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for woken in waiters:
                woken.set()

    def _ensure_listening(self) -> None:
        if self._listener is None or self._listener.done():
            listen = self._listen_postgresql if connection.vendor == "postgresql" else self._poll_sqlite
            self._listener = asyncio.get_running_loop().create_task(listen())

    async def _listen_postgresql(self) -> None:
        import psycopg

        # Django's own connection parameters (OPTIONS such as sslmode included), less what only its
        # synchronous cursors use.
        conninfo = {
            name: value
            for name, value in connection.get_connection_params().items()
            if name not in ("cursor_factory", "context")
        }
        backoff = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(autocommit=True, **conninfo) as listener:
                    await listener.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.1
                    self._wake_all()  # whatever committed before LISTEN took effect
                    async for notification in listener.notifies():
                        self.dispatch(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarted or is away: waiters poll on their timeouts
                logger.warning("wakeups: listener connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _poll_sqlite(self) -> None:
        last_event_id = await database(_last_event_id)
        while True:
            await asyncio.sleep(settings.PROPOSAL_WAIT_POLL_SECONDS)
            if not self._waiters:
                continue
            proposal_ids = [key[1] for key in self._waiters if key[0] == "proposal"]
            try:
                last_event_id, changes = await database(_changes_since, last_event_id, proposal_ids)
            except Exception:
                logger.warning("wakeups: poll failed", exc_info=True)
                continue
            for agent_id, proposal_id in changes:
                self.dispatch(f"{agent_id} {proposal_id}")


_hubs: dict = {}


def hub() -> WakeupHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs.clear()  # a new loop (tests) starts afresh
        _hubs[loop] = WakeupHub()
    return _hubs[loop]


def hubs_close() -> None:
    for waits in list(_hubs.values()):
        waits.close()


async def database(function, *args):
    """Run a database read for the waiting requests in the process's one database thread
    (asgiref's thread-sensitive executor; the waiting requests' signals close its connection
    when it is too old or broken, as for any request), however many requests wait."""
    return await sync_to_async(function, thread_sensitive=True)(*args)


def _last_event_id() -> int:
    from apps.notifications.models import AgentEvent

    return AgentEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _changes_since(last_event_id: int, proposal_ids: list[int]) -> tuple[int, list[tuple[int, int]]]:
    from apps.notifications.models import AgentEvent
    from apps.proposals.models import FINAL_STATUSES, Proposal

    events = list(AgentEvent.objects.filter(id__gt=last_event_id).values_list("id", "agent_id", "proposal_id"))
    changes = [(agent_id, proposal_id) for _id, agent_id, proposal_id in events]
    if proposal_ids:
        final = Proposal.objects.filter(pk__in=proposal_ids, status__in=FINAL_STATUSES)
        changes += list(final.values_list("agent_id", "pk"))
    return (events[-1][0] if events else last_event_id), changes
