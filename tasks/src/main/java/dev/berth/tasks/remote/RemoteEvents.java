package dev.berth.tasks.remote;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.EventSubscriber;
import dev.berth.core.SubscribeOptions;
import dev.berth.events.EventFilter;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.events.proto.containerd.services.events.v1.SubscribeRequest;
import dev.berth.tasks.remote.proto.events.EventsGrpc;
import dev.berth.tasks.remote.proto.tasks.ListTasksRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.types.Status;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Events of a containerd daemon as the same {@link Envelope}s the local exchange emits: {@code subscribe(filters)}
 * is one {@code Events/Subscribe} with the filters applied by the daemon (spec §2.4, §5). The filters are parsed
 * here first, so a bad one fails with INVALID_ARGUMENT and nothing is sent.
 *
 * <p>The stream survives the daemon going away. containerd has no replay: events published while nobody is
 * subscribed are gone. So when the stream fails UNAVAILABLE the subscriber first receives a {@link #GAP_TOPIC}
 * envelope (namespace {@code ""}, timestamp the moment the stream broke), then, once the daemon's health reports
 * SERVING (capped backoff), the subscription is made again and the exits that happened during the outage are
 * reconciled: the processes this service tracks report theirs through their Waits, and {@code Tasks/List} of every
 * namespace seen so far gives stopped tasks; each becomes a synthesized {@code /tasks/exit} if the filters match it
 * and it was not delivered yet. Exits are delivered once per subscription, deduplicated by (container id, process
 * id, exited_at). Other events of the outage stay lost: the gap marker says so. A stream the daemon resets without
 * our cancel counts as lost too. When the service closes, every subscription completes.
 */
final class RemoteEvents implements EventSubscriber {
    private static final Logger log = LoggerFactory.getLogger(RemoteEvents.class);
    /** The topic of the marker of a gap in a subscription. */
    static final String GAP_TOPIC = "/berth/events/gap";
    /** The type URL of the gap marker's payload: the reason, as UTF-8 text. */
    static final String GAP_TYPE_URL = "dev.berth.events.Gap";
    /** Exits this long before the stream broke are reconciled too (they may not have reached us). */
    static final Duration SLACK = Duration.ofSeconds(2);
    /** Topics of the sentinels that confirm a resubscription; never delivered. */
    static final String SENTINEL_PREFIX = "/berth/sentinel/";
    static final String SENTINEL_TYPE_URL = "dev.berth.events.Sentinel";
    /** The namespace sentinels are published in (Publish needs one; the sentinel's filter entry ignores it). */
    static final String SENTINEL_NAMESPACE = "berth";
    static final Duration SENTINEL_PERIOD = Duration.ofMillis(100);
    static final int SENTINEL_TRIES = 50;
    /** How many recent exits a subscription remembers to deliver each once. */
    static final int DEDUPE_WINDOW = 4096;
    private static final java.util.concurrent.atomic.AtomicLong SERIAL = new java.util.concurrent.atomic.AtomicLong();

    private final Daemon daemon;
    private final Clock clock;
    private final Supplier<List<RemoteTask>> tracked;

    RemoteEvents(Daemon daemon, Clock clock, Supplier<List<RemoteTask>> tracked) {
        this.daemon = daemon;
        this.clock = clock;
        this.tracked = tracked;
    }

    @Override
    public Flux<Envelope> subscribe(String... filters) {
        return subscribe(SubscribeOptions.DEFAULTS, filters);
    }

    @Override
    public Flux<Envelope> subscribe(SubscribeOptions options, String... filters) {
        Objects.requireNonNull(options, "options");
        List<String> entries = List.of(filters);
        return Flux.defer(() -> {
            EventFilter filter = EventFilter.parse(filters);
            Subscription s = new Subscription(entries, filter);
            return s.attempt();
        }).transform(f -> buffer(f, options));
    }

    /**
     * Reads the daemon's stream continuously (its per-subscriber queue is unbounded, spec §2.4) into a bounded
     * local buffer with the subscriber's overflow policy.
     */
    private static Flux<Envelope> buffer(Flux<Envelope> events, SubscribeOptions options) {
        if (options.overflow() == SubscribeOptions.Overflow.DROP_OLDEST) {
            return events.onBackpressureBuffer(options.bufferSize(), dropped -> options.onDrop().accept(1),
                    BufferOverflowStrategy.DROP_OLDEST);
        }
        return events.onBackpressureBuffer(options.bufferSize(), dropped -> { }, BufferOverflowStrategy.ERROR)
                .onErrorMap(e -> reactor.core.Exceptions.isOverflow(e),
                        e -> Errors.of(ErrorKind.RESOURCE_EXHAUSTED, e,
                                "event subscriber fell %d events behind", options.bufferSize()));
    }

    static String exitKey(String containerId, String id, com.google.protobuf.Timestamp exitedAt) {
        return containerId + "\u0000" + id + "\u0000" + exitedAt.getSeconds() + "." + exitedAt.getNanos();
    }

    /** The state of one subscription across reconnects. */
    private final class Subscription {
        final List<String> filters;
        final EventFilter filter;
        /** The exits delivered lately: enough to deduplicate around a reconnect, bounded for long subscriptions. */
        final Set<String> delivered = java.util.Collections.newSetFromMap(java.util.Collections.synchronizedMap(
                new java.util.LinkedHashMap<String, Boolean>() {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                        return size() > DEDUPE_WINDOW;
                    }
                }));
        final Set<String> namespaces = ConcurrentHashMap.newKeySet();

        Subscription(List<String> filters, EventFilter filter) {
            this.filters = filters;
            this.filter = filter;
        }

        Flux<Envelope> attempt() {
            return stream(false);
        }

        /**
         * One Events/Subscribe. After a reconnect ({@code confirm}) the stream is confirmed before the Waits of the
         * service go on (spec §2.4: a subscription is not acknowledged): the filters get one more entry (entries
         * are OR-ed, so it adds only this) matching a sentinel topic of this attempt, a sentinel is published
         * until it comes back, and then {@link Daemon#resubscribed} is told. Sentinels never reach the subscriber.
         */
        Flux<Envelope> stream(boolean confirm) {
            // Not a UUID: SecureRandom may block, and this runs on a non-blocking thread.
            String sentinel = SENTINEL_PREFIX + Long.toHexString(
                    java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE)
                    + "-" + SERIAL.incrementAndGet();
            List<String> entries = confirm && !filters.isEmpty()
                    ? java.util.stream.Stream.concat(filters.stream(), java.util.stream.Stream.of(
                            "topic==\"" + sentinel + "\"")).toList()
                    : filters;
            SubscribeRequest request = SubscribeRequest.newBuilder().addAllFilters(entries).build();
            reactor.core.publisher.Sinks.Empty<Void> confirmed = reactor.core.publisher.Sinks.empty();
            Flux<Envelope> events = daemon.calls.serverStream("", EventsGrpc.getSubscribeMethod(), request)
                    .map(e -> new Envelope(instant(e.getTimestamp()), e.getNamespace(), e.getTopic(), e.getEvent()))
                    .filter(e -> {
                        if (!e.topic().startsWith(SENTINEL_PREFIX)) {
                            return true;
                        }
                        if (e.topic().equals(sentinel)) {
                            confirmed.tryEmitEmpty();
                            daemon.resubscribed(this);
                        }
                        return false;
                    })
                    .filter(this::firstTime);
            if (confirm) {
                Mono<Void> publish = daemon.calls.unary(SENTINEL_NAMESPACE, EventsGrpc.getPublishMethod(),
                                Validation.publish(PublishRequest.newBuilder().setTopic(sentinel)
                                        .setEvent(Any.newBuilder().setTypeUrl(SENTINEL_TYPE_URL)).build()))
                        .then()
                        .onErrorResume(e -> Mono.empty());
                // One Publish after another, a period apart: no ticking source that overflows when Publish is slow.
                Flux<Envelope> sentinels = Flux.range(0, SENTINEL_TRIES)
                        .concatMap(i -> (i == 0 ? Mono.<Void>empty()
                                : Mono.delay(SENTINEL_PERIOD, daemon.schedulers.timer()).then()).then(publish))
                        .takeUntilOther(confirmed.asMono())
                        .thenMany(Flux.<Envelope>empty())
                        .doFinally(s -> daemon.resubscribed(this));
                events = Flux.merge(events, sentinels);
            }
            return events
                    .onErrorResume(e -> Errors.isRetryable(e) && daemon.closed.get(), e -> Flux.empty())
                    .onErrorResume(Errors::isRetryable, e -> {
                        Instant broke = clock.instant();
                        daemon.resubscribing(this);
                        log.warn("event stream lost ({}): resubscribing once containerd serves", e.getMessage());
                        return Flux.concat(
                                Mono.just(gap(broke, e)),
                                daemon.serving().then(Mono.empty()),
                                Flux.defer(() -> Flux.merge(stream(true), reconcile(broke.minus(SLACK)))));
                    })
                    .doFinally(s -> daemon.resubscribed(this));
        }

        /** Records namespaces; drops an exit already delivered. */
        boolean firstTime(Envelope e) {
            if (!e.namespace().isEmpty()) {
                namespaces.add(e.namespace());
            }
            if (!e.topic().equals(TaskTopics.EXIT) || !TypeUrls.is(e.event(), TypeUrls.TASK_EXIT)) {
                return true;
            }
            try {
                TaskExit exit = TaskExit.parseFrom(e.event().getValue());
                return delivered.add(exitKey(exit.getContainerId(), exit.getId(), exit.getExitedAt()));
            } catch (InvalidProtocolBufferException bad) {
                return true;
            }
        }

        /** Exits since {@code since} that this subscription may have missed. */
        Flux<Envelope> reconcile(Instant since) {
            List<RemoteTask> tasks = tracked.get();
            tasks.forEach(t -> namespaces.add(t.namespace));
            Flux<Envelope> fromWaits = Flux.fromIterable(tasks)
                    .flatMap(t -> Flux.concat(Flux.just((RemoteProcessBase) t), Flux.fromIterable(t.execs())))
                    .flatMap(p -> p.exit()
                            // An unknown exit is no event containerd sent: the gap marker stands for it.
                            .filter(status -> status.kind() != dev.berth.core.ExitStatus.Kind.UNKNOWN)
                            .map(status -> exitEnvelope(p.namespace, p.containerId,
                            p.execId.isEmpty() ? p.containerId : p.execId, 0, status.toShellCode(),
                            Timestamps.timestamp(status.exitedAt()))));
            Flux<Envelope> fromList = Flux.fromIterable(List.copyOf(namespaces))
                    .flatMap(ns -> daemon.calls.unary(ns, TasksGrpc.getListMethod(),
                                    ListTasksRequest.getDefaultInstance())
                            .flatMapIterable(r -> r.getTasksList())
                            .filter(p -> p.getStatus() == Status.STOPPED && Timestamps.instant(p.getExitedAt()) != null)
                            .map(p -> exitEnvelope(ns, p.getId(), p.getId(), p.getPid(), p.getExitStatus(),
                                    p.getExitedAt()))
                            .onErrorResume(e -> Mono.empty()));
            return Flux.merge(fromList, fromWaits)
                    .filter(e -> !e.timestamp().isBefore(since))
                    .filter(filter::test)
                    .filter(this::firstTime);
        }
    }

    /** A synthesized {@code /tasks/exit}, as the daemon would have published it (timestamp = exited_at). */
    static Envelope exitEnvelope(String namespace, String containerId, String id, int pid, int status,
            com.google.protobuf.Timestamp exitedAt) {
        TaskExit exit = TaskExit.newBuilder().setContainerId(containerId).setId(id).setPid(pid)
                .setExitStatus(status).setExitedAt(exitedAt).build();
        return new Envelope(instant(exitedAt), namespace, TaskTopics.EXIT, TypeUrls.message(exit));
    }

    static Envelope gap(Instant at, Throwable cause) {
        String reason = "containerd unavailable, events may be lost: " + cause.getMessage();
        return new Envelope(at, "", GAP_TOPIC, Any.newBuilder().setTypeUrl(GAP_TYPE_URL)
                .setValue(ByteString.copyFrom(reason, StandardCharsets.UTF_8)).build());
    }

    private static Instant instant(com.google.protobuf.Timestamp t) {
        Instant at = Timestamps.instant(t);
        return at != null ? at : Instant.EPOCH;
    }
}
