"""Every place where ``common`` replaces, or reaches into, internals of kombu, redis-py, Django's cache and Celery.

Each patch below says what it replaces, why, and what it assumes of the code it replaces. They were checked
against the versions in ``CHECKED_AGAINST`` (the pins of ``requirements/base.txt``), and ``PATCHES`` records,
for each patch, the internals it replaces or relies on with the SHA-256 of their source as read then.
``common_testing.library_patches`` (run by every service's suite) fails when an installed version or one of
those sources differs, naming the patch to re-check; once it has been re-checked (and changed if need be),
record the new versions and hashes here (``python -m common.kombu_redis_patches`` prints them).

- ``_install_kombu_channel_reuses_its_client``: one ``redis.Redis`` per kombu channel instead of one per
  broker command (speed).
- ``_install_kombu_qos_tolerates_closed_channel``: a worker survives Redis going away while it holds
  unacknowledged messages (resilience).
- ``_install_kombu_channel_claims_atomically``: a message leaves its queue and enters the unacknowledged set in
  one step of Redis, so a worker killed while a message is on its way to it does not lose it (resilience).
- ``ReusedRedisCacheClient``: one ``redis.Redis`` per connection pool in Django's Redis cache instead of one
  per cache operation (speed).
- ``redis_cache_get_values``: a cached page's read as one MGET on a pooled connection, below Django's
  ``get_many`` and redis-py's command wrappers (speed).
- ``redis_wait_for_replicas``: a publish counts once Redis's replicas have it (no loss in a failover).
- ``celery_keep_database_connections``: a worker keeps its database connection across tasks instead of
  Celery closing it around each one (speed).

The kombu patches are installed by ``common.messaging``'s app config (``install()``), the cache ones by
``common.cache.RedisCache``, the Celery one by ``common.celery_app.create_celery_app``.
"""

import hashlib
import importlib
import inspect
import logging
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache.backends import redis as django_redis

from common.telemetry import tracing

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

# The library versions every patch below was read against and tested with (requirements/base.txt).
CHECKED_AGAINST = {"kombu": "5.7.0", "redis": "8.1.0", "celery": "5.7.0", "django": "5.2.19"}


@dataclass(frozen=True)
class Internal:
    """A library function a patch replaces or relies on: ``"module:Class.attribute"``, and its source's SHA-256."""

    path: str
    source_sha256: str


@dataclass(frozen=True)
class Patch:
    name: str
    assumes: str  # what to re-check when one of its internals changes
    internals: tuple[Internal, ...]


# The original functions replaced in place by install(), by path: their sources are what PATCHES records.
_originals: dict[str, Any] = {}


def _replace(owner: type, attribute: str, replacement: Callable[..., Any], *, path: str) -> None:
    _originals[path] = getattr(owner, attribute)
    setattr(owner, attribute, replacement)


# ---------------------------------------------------------------- kombu: one redis.Redis per channel


def _install_kombu_channel_reuses_its_client() -> None:
    """One ``redis.Redis`` per kombu channel, instead of a new one for every broker command.

    Replaces ``kombu.transport.redis.Channel._create_client`` (synchronous clients only). kombu builds a new
    ``redis.Redis`` there for each publish, each acknowledgement and each delivery's bookkeeping: three per
    message a worker handles and answers. With redis-py 8 that object alone (it fills a table of ~170 response
    callbacks) costs about as much as the round trip itself, so an order, whose saga passes three messages,
    paid for nine of them. The client is thread-safe and holds no connection of its own (the channel's pool
    does), so the channel keeps one, and builds a new one only when its pool is replaced (after a
    reconnection). The same reasoning, for Django's cache, is ``ReusedRedisCacheClient``.
    """
    from kombu.transport import redis as kombu_redis

    channel: Any = kombu_redis.Channel
    if getattr(channel, "reuses_sync_client", False):
        return
    original_create_client = channel._create_client

    def _create_client(self: Any, asynchronous: bool = False) -> Any:
        if asynchronous:
            return original_create_client(self, asynchronous=True)
        pool = self.pool
        client = self.__dict__.get("_reused_client")
        if client is None or client.connection_pool is not pool:
            client = self._reused_client = original_create_client(self)
        return client

    _replace(channel, "_create_client", _create_client, path="kombu.transport.redis:Channel._create_client")
    channel.reuses_sync_client = True


# ---------------------------------------------------------------- kombu: a worker survives a closed channel


def _channel_closed(qos: Any) -> bool:
    return getattr(qos.channel, "connection", None) is None


def _install_kombu_qos_tolerates_closed_channel() -> None:
    """Keep a Celery worker alive when Redis goes away while it holds unacknowledged messages.

    Replaces ``kombu.transport.redis.QoS.restore_unacked``, ``.ack`` and ``.reject``. When the broker
    connection drops, the worker's consumer closes its channel and opens a new one once Redis is back.
    kombu's Redis transport then touches the closed channel in three places, each raising ``AttributeError``
    (its connection is ``None``: ``'NoneType' object has no attribute 'hostname'`` or ``'client'``), which
    Celery treats as unrecoverable, so the worker exits (kombu issues #582, #970; seen here with kombu 5.7
    when the e2e tests stop and restart Redis):

    - restoring the unacknowledged messages as the channel closes;
    - acknowledging a message whose task was running during the outage;
    - rejecting (requeueing) such a message.

    Each of these now gives up quietly on a closed channel. Nothing is lost: the message is still in Redis's
    ``unacked`` hash, and a worker puts it back on its queue once the visibility timeout has passed
    (``common.celery_app.VISIBILITY_TIMEOUT_SECONDS``), exactly as for a worker that died. If its task had
    already run, the consumer's inbox recognises the message id and the second delivery changes nothing.
    """
    from kombu.transport import redis as kombu_redis
    from kombu.transport import virtual

    qos: Any = kombu_redis.QoS
    if getattr(qos, "tolerates_closed_channel", False):
        return
    original_restore_unacked, original_ack, original_reject = qos.restore_unacked, qos.ack, qos.reject

    def restore_unacked(self: Any, client: Any = None) -> None:
        if client is None and getattr(self.channel.connection, "client", None) is None:
            logger.warning(
                "broker connection already closed: %d unacknowledged message(s) stay in Redis and are "
                "restored after the visibility timeout",
                len(self._delivered),
            )
            return
        original_restore_unacked(self, client)

    def ack(self: Any, delivery_tag: str) -> None:
        if _channel_closed(self):
            logger.warning(
                "message %s finished after its broker connection closed: it stays unacknowledged in Redis and "
                "comes back after the visibility timeout, where the inbox drops it",
                delivery_tag,
            )
            virtual.QoS.ack(self, delivery_tag)  # forget it locally only
            return
        original_ack(self, delivery_tag)

    def reject(self: Any, delivery_tag: str, requeue: bool = False) -> None:
        if _channel_closed(self):
            logger.warning(
                "message %s rejected after its broker connection closed: Redis requeues it after the visibility "
                "timeout",
                delivery_tag,
            )
            virtual.QoS.ack(self, delivery_tag)
            return
        original_reject(self, delivery_tag, requeue=requeue)

    _replace(qos, "restore_unacked", restore_unacked, path="kombu.transport.redis:QoS.restore_unacked")
    _replace(qos, "ack", ack, path="kombu.transport.redis:QoS.ack")
    _replace(qos, "reject", reject, path="kombu.transport.redis:QoS.reject")
    qos.tolerates_closed_channel = True


# ---------------------------------------------------------------- kombu: a delivery recorded as it leaves the queue

# Pops the first message of KEYS[3..] and, if its queue is consumed with acknowledgements (ARGV[i - 1] == '1' for
# KEYS[i]), records it in kombu's unacknowledged set (KEYS[1], the index by delivery time ARGV[1]; KEYS[2], the hash
# of [message, exchange, routing key] by delivery tag, as QoS.append writes them), in one step of Redis. A message
# kombu could not read either is popped as kombu's own BRPOP would, unrecorded. Returns the key, the message and
# the delivery tag recorded ('' when none was).
_CLAIM_SCRIPT = """
for i = 3, #KEYS do
  local raw = redis.call('LINDEX', KEYS[i], -1)
  if raw then
    local ok, message = pcall(cjson.decode, raw)
    redis.call('RPOP', KEYS[i])
    local properties = ok and type(message) == 'table' and message['properties']
    local tag = type(properties) == 'table' and properties['delivery_tag']
    local info = type(properties) == 'table' and properties['delivery_info']
    if ARGV[i - 1] == '1' and type(tag) == 'string' and type(info) == 'table' then
      redis.call('ZADD', KEYS[1], ARGV[1], tag)
      local exchange, routing_key = cjson.encode(info['exchange'] or ''), cjson.encode(info['routing_key'] or '')
      redis.call('HSET', KEYS[2], tag, '[' .. raw .. ',' .. exchange .. ',' .. routing_key .. ']')
      return {KEYS[i], raw, tag}
    end
    return {KEYS[i], raw, ''}
  end
end
return false
"""


def _install_kombu_channel_claims_atomically() -> None:
    """A message leaves its queue and enters the unacknowledged set in one step, so a killed worker never loses it.

    Replaces ``kombu.transport.redis.Channel._brpop_start``, ``._brpop_read``, ``.basic_consume`` and
    ``kombu.transport.redis.QoS.append``. kombu
    waits for a message with ``BRPOP``, which takes it off the queue as Redis answers; only once the worker has
    read that answer does ``QoS.append`` record it as unacknowledged (restored after the visibility timeout if
    never acknowledged). A worker killed in between (the answer in flight, in its socket, or read and not yet
    recorded: milliseconds, longer on a busy machine) loses the message: it is in neither place, and nobody sends
    it again (the chaos run with seed 821417 lost a notification so). Instead the worker waits with ``BLMOVE
    queue queue RIGHT RIGHT``, which leaves the list as it was (it moves the last message to where it was) and
    answers once one is there; then a Lua script (``_CLAIM_SCRIPT``) takes the message off the queue and records
    it as unacknowledged, atomically, unless its queue is consumed without acknowledgements
    (``basic_consume(no_ack=True)``, which ``basic_consume`` now notes per queue: Celery's control replies).
    Killed before the script, the message is still queued; after it, it is restored after the visibility
    timeout. ``QoS.append`` (replaced too) then skips its own write of the record the script just made (a
    pipeline of ``ZADD`` and ``HSET`` with the same tag and content: a round trip per message) and only does
    its local bookkeeping; a message the script did not record (``basic_get``, a message kombu rejects back) is
    recorded by kombu's own ``append``. Several idle workers
    all wake for one message; one script gets it, the others find nothing and wait again. Without a message
    after ``brpop_timeout`` the script still runs once: it takes a message waiting in any other key (another
    priority or queue, which ``BLMOVE``, one key only, does not watch). Needs Redis 6.2 (``BLMOVE``). With
    ``global_keyprefix`` set (not used here) kombu's own behaviour is kept.
    """
    from queue import Empty

    from kombu.transport import redis as kombu_redis
    from kombu.transport import virtual
    from kombu.utils.encoding import bytes_to_str
    from kombu.utils.json import loads

    channel: Any = kombu_redis.Channel
    qos: Any = kombu_redis.QoS
    if getattr(channel, "claims_atomically", False):
        return
    original_brpop_start, original_brpop_read = channel._brpop_start, channel._brpop_read
    original_basic_consume, original_append = channel.basic_consume, qos.append

    def basic_consume(self: Any, queue: str, *args: Any, **kwargs: Any) -> Any:
        # Which queues are consumed with acknowledgements (a reply queue of Celery's control is not).
        no_ack = kwargs["no_ack"] if "no_ack" in kwargs else (args[0] if args else False)
        self.__dict__.setdefault("_queues_acknowledged", {})[queue] = not no_ack
        return original_basic_consume(self, queue, *args, **kwargs)

    def _brpop_start(self: Any, timeout: float | None = None) -> None:
        if self.global_keyprefix:
            original_brpop_start(self, timeout)
            return
        if timeout is None:
            timeout = self.brpop_timeout
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        acknowledged = self.__dict__.get("_queues_acknowledged", {})
        self._claim_keys = [self._q_for_pri(queue, pri) for pri in self.priority_steps for queue in queues]
        self._claim_records = [
            "1" if acknowledged.get(queue) else "0" for pri in self.priority_steps for queue in queues
        ]
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()
        key = self._claim_keys[0]
        self.client.connection.send_command("BLMOVE", key, key, "RIGHT", "RIGHT", timeout or 0)

    def _brpop_read(self: Any, **options: Any) -> bool:
        if self.global_keyprefix:
            return bool(original_brpop_read(self, **options))
        try:
            try:
                self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                self.client.connection.disconnect()  # as kombu's: the next iteration reconnects
                raise
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()
        with self.conn_or_acquire() as client:
            claim = self.__dict__.get("_claim_script")
            if claim is None:
                claim = self._claim_script = client.register_script(_CLAIM_SCRIPT)
            claimed = claim(
                keys=[self.unacked_index_key, self.unacked_key, *self._claim_keys],
                args=[time.time(), *self._claim_records],
                client=client,
            )
        if not claimed:
            raise Empty()
        dest, item, recorded_tag = claimed
        dest = bytes_to_str(dest).rsplit(self.sep, 1)[0]
        self._queue_cycle.rotate(dest)
        # Delivery calls QoS.append for this message before it returns: the tag tells it the record is made.
        self._recorded_tag = bytes_to_str(recorded_tag) or None
        try:
            self.connection._deliver(loads(bytes_to_str(item)), dest)
        finally:
            self._recorded_tag = None
        return True

    def append(self: Any, message: Any, delivery_tag: str) -> None:
        if delivery_tag is not None and delivery_tag == self.channel.__dict__.get("_recorded_tag"):
            virtual.QoS.append(self, message, delivery_tag)  # the claim script recorded it in Redis already
            return
        original_append(self, message, delivery_tag)

    _replace(channel, "basic_consume", basic_consume, path="kombu.transport.redis:Channel.basic_consume")
    _replace(channel, "_brpop_start", _brpop_start, path="kombu.transport.redis:Channel._brpop_start")
    _replace(channel, "_brpop_read", _brpop_read, path="kombu.transport.redis:Channel._brpop_read")
    _replace(qos, "append", append, path="kombu.transport.redis:QoS.append")
    channel.claims_atomically = True


def install() -> None:
    """Patch kombu's Redis transport once per process (idempotent): the kombu patches above."""
    _install_kombu_qos_tolerates_closed_channel()
    _install_kombu_channel_reuses_its_client()
    _install_kombu_channel_claims_atomically()


# ---------------------------------------------------------------- Django's Redis cache


class ReusedRedisCacheClient(django_redis.RedisCacheClient):
    """Django's Redis cache client with one ``redis.Redis`` per connection pool.

    Replaces ``django.core.cache.backends.redis.RedisCacheClient.get_client``, which builds a new
    ``redis.Redis`` for every cache operation; with redis-py 8 that object alone costs more than the round trip
    on a small machine (it fills a table of ~170 response callbacks). The client is thread-safe and its pool
    handles forks, so one per pool is enough. Behaviour is otherwise Django's own. Relies on Django's
    ``_get_connection_pool`` and ``_client`` (the ``redis.Redis`` class). ``common.cache.RedisCache`` uses it
    (its ``_class``, which Django's ``RedisCache.__init__`` sets and its ``_cache`` instantiates).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's private method
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            tracing.instrument_redis_client(client)  # the cache's commands in traces (never the broker's)
        return client


def redis_cache_get_values(backend: django_redis.RedisCache, keys: list[str]) -> list[Any]:
    """The values of ``keys`` in one MGET, ``None`` where a key is missing (``get_many`` returns a dict).

    Stands in for ``RedisCache.get_many`` (Django's ``RedisCacheClient.get_many``: ``mget`` through
    redis-py's command wrappers, then the serializer's ``loads``) on every cached page's read: it takes a
    pooled connection itself, because Django's ``get_many`` and redis-py's command wrappers (retries,
    observability hooks, reply callbacks) cost about a third of the round trip on a small machine. Relies on
    Django's ``RedisCache._cache`` (the client), the client's ``get_client`` and ``_serializer``, and
    redis-py's ``ConnectionPool.get_connection``/``release``. A failure raises ``RedisError``, as a command
    would, and the connection is dropped rather than reused with a reply half read.
    """
    names = [backend.make_and_validate_key(key) for key in keys]
    client: Any = backend._cache  # type: ignore[attr-defined]  # Django's private client
    pool = client.get_client(None).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_command("MGET", *names)
        values = connection.read_response()
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)
    loads = client._serializer.loads
    return [None if value is None else loads(value) for value in values]


# ---------------------------------------------------------------- kombu: a publish replicated before it counts


def redis_wait_for_replicas(channel: Any, *, replicas: int, timeout_ms: int) -> bool:
    """Whether the replicas have every write of the connection ``channel`` just published on (Redis ``WAIT``).

    Redis replicates asynchronously: a message the master accepted and lost in a failover before its replica
    had it is gone, while its outbox row says sent. ``common.messaging.publisher`` asks this after each publish
    when ``MESSAGING_PUBLISH_REPLICAS`` is set, and counts a publish as sent only once ``replicas`` replicas
    have it, or every connected one if fewer are connected (a master without a replica has nothing to fail
    over to: after a failover, until the old master comes back as a replica, publishing goes on); otherwise
    the row stays unsent and the relay sends it again (the consumer's inbox drops a second copy).

    ``WAIT`` answers for the writes of the connection it runs on, so it must run on the one that pushed the
    message: relies on kombu's ``Channel._put`` pushing through ``conn_or_acquire()`` (a client on the channel's
    own pool) and on redis-py's pool handing a single-threaded user the connection it released last (the
    publisher is one per thread, and its pool holds one connection).
    """
    with channel.conn_or_acquire() as client:
        wanted = min(replicas, int(client.info("replication").get("connected_slaves", 0)))
        if wanted == 0:
            return True
        acknowledged: int = client.execute_command("WAIT", wanted, timeout_ms)
    return acknowledged >= wanted


# ---------------------------------------------------------------- Celery: database connections across tasks


def celery_keep_database_connections(app: "Celery") -> None:
    """Keep a worker's database connection across tasks, as a web worker does across requests.

    Replaces the behaviour of Celery's Django fixup (``celery.fixups.django.DjangoWorkerFixup``), which closes
    every connection before and after each task unless ``CELERY_DB_REUSE_MAX`` is set (an undocumented
    setting it reads in ``__init__`` and counts in ``close_database``); a new Postgres connection (a backend
    process and SCRAM authentication) then costs more than a saga step itself. Instead, around each task,
    Django's ``close_old_connections`` closes only connections past ``CONN_MAX_AGE`` or broken by an error,
    so a database restart still ends in a fresh connection on the next task.

    A worker does without ``CONN_HEALTH_CHECKS`` (a ``SELECT 1`` before each task's first query, kept by the
    web servers): a task that meets a connection the database dropped fails, and
    ``common.messaging.consumer`` retries it a moment later on a new connection, so the check would cost a
    round trip per message to save a one-second delay once per database restart.
    """
    from celery.signals import task_postrun, task_prerun, worker_init
    from django.conf import settings
    from django.db import close_old_connections

    app.conf.CELERY_DB_REUSE_MAX = 2**31  # read by celery.fixups.django: effectively "never close"

    def close_old(**kwargs: Any) -> None:
        close_old_connections()

    def without_health_checks(**kwargs: Any) -> None:
        for database in settings.DATABASES.values():  # read when a connection opens
            database["CONN_HEALTH_CHECKS"] = False

    worker_init.connect(without_health_checks, weak=False, dispatch_uid="common.celery_app.no_health_checks")
    task_prerun.connect(close_old, weak=False, dispatch_uid="common.celery_app.close_old_prerun")
    task_postrun.connect(close_old, weak=False, dispatch_uid="common.celery_app.close_old_postrun")


# ---------------------------------------------------------------- what each patch was checked against

PATCHES: tuple[Patch, ...] = (
    Patch(
        name="_install_kombu_channel_reuses_its_client",
        assumes=(
            "_create_client(asynchronous=False) still returns a plain redis.Redis on self.pool holding no "
            "connection of its own, and Channel.pool is replaced (not reconfigured) on reconnection"
        ),
        internals=(
            Internal(
                "kombu.transport.redis:Channel._create_client",
                "376ef74d24a416599d9e95a8e4c83f43dcefcd3154710d354d12ae11414628b9",
            ),
            Internal(
                "kombu.transport.redis:Channel.pool",
                "21755a780d16f22fa36b204b7abb8a82e7bccc3bb5f5af849450bc08cf1249b9",
            ),
        ),
    ),
    Patch(
        name="_install_kombu_qos_tolerates_closed_channel",
        assumes=(
            "a closed channel still has connection None; restore_unacked/ack/reject still touch the channel's "
            "connection; virtual.QoS.ack still only forgets the tag locally; the unacked hash is still restored "
            "after the visibility timeout"
        ),
        internals=(
            Internal(
                "kombu.transport.redis:QoS.restore_unacked",
                "4cd1df399bb3437354f226242948c301ed9645dac2e5636a4b6017c6b45d5674",
            ),
            Internal(
                "kombu.transport.redis:QoS.ack",
                "a6a293d96aabf1d55736f9bf0e0d37a3b7a105105613be50323de1ec4f877f58",
            ),
            Internal(
                "kombu.transport.redis:QoS.reject",
                "93af6bf8771827a1a17cf239912333dcf5b25884afa71ea6a728752573ce3fde",
            ),
            Internal(
                "kombu.transport.virtual:QoS.ack",
                "2ec9d3d075fabb4095f9144c65b56a6433d797faefbf8e609d1276ef35abec85",
            ),
        ),
    ),
    Patch(
        name="_install_kombu_channel_claims_atomically",
        assumes=(
            "basic_consume still takes no_ack as its second argument or keyword; _brpop_start still only sends "
            "one BRPOP over the keys of _q_for_pri for priority_steps and the queues of _queue_cycle.consume, and"
            " _brpop_read parses it and hands the message to connection._deliver, whose callback calls "
            "QoS.append before returning; QoS.append still records [message._raw, exchange, routing_key] by "
            "delivery tag in unacked and the tag in unacked_index, which restore_by_tag reads back, and "
            "virtual.QoS.append still does only the local bookkeeping; a message's properties still hold "
            "delivery_tag and delivery_info"
        ),
        internals=(
            Internal(
                "kombu.transport.redis:Channel.basic_consume",
                "5f7075cada92b7e762027e08fd636ace1e658e0bfac55c66cc5566602c0066c6",
            ),
            Internal(
                "kombu.transport.virtual.base:Channel.basic_consume",
                "10acbcd002b0b89a65a9be0960ccec16004baeacfd8d42f1725da267ae0cdb7b",
            ),
            Internal(
                "kombu.transport.redis:Channel._brpop_start",
                "b8c18935c62e35af5f9a9e5f275aa540b4f91851a6c143cf2c957756b93175fb",
            ),
            Internal(
                "kombu.transport.redis:Channel._brpop_read",
                "f073dbcb18d71759b81a2ddefaeb09111dc3d9c02a85cba70499432f3d6449c4",
            ),
            Internal(
                "kombu.transport.redis:QoS.append",
                "4b4b426ec8acbe0db08ff73432ff2f8203bf6b11db4293be499e1bc069f71438",
            ),
            Internal(
                "kombu.transport.virtual.base:QoS.append",
                "465769e97a71c6e101ebee08a2a6d1b497da9c2d2e0c568a70ab0ee42638cd28",
            ),
            Internal(
                "kombu.transport.redis:QoS.restore_by_tag",
                "6224c9d1a3093fe93f94656180fc1ec99831037c5de9d8fdbdf148a280eb4028",
            ),
            Internal(
                "kombu.transport.virtual.base:Channel.basic_publish",
                "8a69fe36de9fb6d89cb63b630fabb06f81b2e9eb5a4556cabdcee24231da80ab",
            ),
        ),
    ),
    Patch(
        name="ReusedRedisCacheClient",
        assumes=(
            "get_client still builds self._client(connection_pool=pool) per call from _get_connection_pool, "
            "and RedisCache still instantiates self._class in _cache"
        ),
        internals=(
            Internal(
                "django.core.cache.backends.redis:RedisCacheClient.get_client",
                "f90c842bc9efa3888265372baceb3001c6bcb3332c1fa426ca5a7dddd06be18e",
            ),
            Internal(
                "django.core.cache.backends.redis:RedisCacheClient._get_connection_pool",
                "cb2003b449ec1f7ba0c604a1d9cf81f4ab94cafa3877a5b27517995c6c0a5954",
            ),
            Internal(
                "django.core.cache.backends.redis:RedisCacheClient.__init__",
                "caeae4a646fd420bc5d1f7470ff3f4ea6b3fbcff0d443135d8dfc0836e4c080b",
            ),
            Internal(
                "django.core.cache.backends.redis:RedisCache.__init__",
                "73f24a0c355caccf6791d24494fa60c81145c564f00e345d549b5cb2f37e7f58",
            ),
            Internal(
                "django.core.cache.backends.redis:RedisCache._cache",
                "fca11ee884affe3279720934331b776e09519d36f70616d238c9d568db6a722a",
            ),
        ),
    ),
    Patch(
        name="redis_cache_get_values",
        assumes=(
            "get_many is still MGET of the validated keys then _serializer.loads of each value found; "
            "ConnectionPool.get_connection() still takes no argument and release() takes the connection back"
        ),
        internals=(
            Internal(
                "django.core.cache.backends.redis:RedisCacheClient.get_many",
                "c58d0eb346b37613ec7613c701ef515bd0647f045cd65450c552052130c9b27d",
            ),
            Internal(
                "django.core.cache.backends.redis:RedisCache.get_many",
                "c14578f2a73d7a97b0ce68e4357fc033e22ef9aa8f1302025b5f2a04b896f74b",
            ),
            Internal(
                "redis.connection:ConnectionPool.get_connection",
                "dc29f12e8201de7d4972f5b1ac16aaf96e58942c6630f060c5617f19de7720ed",
            ),
            Internal(
                "redis.connection:ConnectionPool.release",
                "0dabf1f4d02a4a726f6c16ab4d689b4c96406169d0ff9d23a4cd13e0765b285e",
            ),
        ),
    ),
    Patch(
        name="redis_wait_for_replicas",
        assumes=(
            "Channel._put still LPUSHes on the client conn_or_acquire() gives (on the channel's pool), and "
            "ConnectionPool.get_connection still reuses the connection released last"
        ),
        internals=(
            Internal(
                "kombu.transport.redis:Channel._put",
                "b1c0626539f96225153545dbf668c0e062ba7218c4616afd691578d70fdc8770",
            ),
            Internal(
                "kombu.transport.redis:Channel.conn_or_acquire",
                "01ab44dd770603a6dc5f20cd7d893fb4faec3346299b37c75a5bb1fb3c29ba57",
            ),
            Internal(
                "redis.connection:ConnectionPool.get_connection",
                "dc29f12e8201de7d4972f5b1ac16aaf96e58942c6630f060c5617f19de7720ed",
            ),
        ),
    ),
    Patch(
        name="celery_keep_database_connections",
        assumes="Celery's Django fixup still reads CELERY_DB_REUSE_MAX from app.conf and closes connections "
        "only once a task count reaches it",
        internals=(
            Internal(
                "celery.fixups.django:DjangoWorkerFixup.__init__",
                "7f4ccb05dd7a0b0f66f3cc91d2d22d8569fb025e4c7ebae7f96016b32ff4b67b",
            ),
            Internal(
                "celery.fixups.django:DjangoWorkerFixup.close_database",
                "feee0faf2d86b7f65ac9d18921137451ca53faf92a0a085d17d9abdd82fee335",
            ),
        ),
    ),
)


def original(path: str) -> Any:
    """The library's own function at ``path`` (``"module:Class.attribute"``), even once a patch replaced it."""
    if path in _originals:
        return _originals[path]
    module_name, _, attributes = path.partition(":")
    owner: Any = importlib.import_module(module_name)
    for attribute in attributes.split("."):
        owner = inspect.getattr_static(owner, attribute) if isinstance(owner, type) else getattr(owner, attribute)
    for unwrap in ("fget", "func"):  # property, cached_property
        owner = getattr(owner, unwrap, owner)
    if isinstance(owner, staticmethod | classmethod):
        owner = owner.__func__
    return owner


def source_sha256(path: str) -> str:
    """The SHA-256 of the source of the library's function at ``path``, as ``PATCHES`` records it."""
    source = textwrap.dedent(inspect.getsource(original(path)))
    return hashlib.sha256(source.encode()).hexdigest()


if __name__ == "__main__":  # pragma: no cover - prints what to record after a re-check
    from importlib.metadata import version

    print("CHECKED_AGAINST =", {name: version(name) for name in CHECKED_AGAINST})
    for patch in PATCHES:
        print(patch.name)
        for internal in patch.internals:
            print(f'    Internal("{internal.path}", "{source_sha256(internal.path)}"),')
