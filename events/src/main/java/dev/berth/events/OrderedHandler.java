package dev.berth.events;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.berth.core.Envelope;
import dev.berth.core.Errors;
import java.util.Objects;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Handles a stream of events in order per task while different tasks proceed concurrently: the pattern moby's
 * containerd client uses for task events, where one task's {@code /tasks/exit} must not be handled before its
 * {@code /tasks/start}, but a slow handler for one container must not hold up the others.
 *
 * <p>The task key is the envelope's namespace plus the payload's {@code container_id} string field (decoded with
 * {@link EventPayload}); an event with no such field, or an empty one, or a payload Berth cannot decode, is keyed by
 * namespace plus topic. Keys are hashed into {@code concurrency} lanes; each lane handles its events one after the
 * other, and the lanes run concurrently. Two tasks that share a lane are handled in their interleaved arrival order
 * (never reordered, only serialized).
 */
public final class OrderedHandler {
    /** How many events the lanes may hold between them before the source is asked for more. */
    static final int LANE_BUFFER = 256;
    private static final String CONTAINER_ID = "container_id";

    private OrderedHandler() {
    }

    /**
     * Handles {@code events} with {@code handler}, in order per task key, with up to {@code concurrency} handlers
     * running at once.
     *
     * @param events the events, typically {@code exchange.subscribe(...)}; subscribed to once per subscription of the
     *     result
     * @param handler returns a Mono that completes when one event is handled; the next event of the same key is not
     *     handed over before it completes
     * @param concurrency the number of lanes, at least 1
     * @return a cold Mono that subscribes to {@code events} and completes once the source has completed and every
     *     handler has finished. It fails with the first handler failure (or source failure), cancelling the source
     *     and the handlers still running. Backpressure: at most {@value #LANE_BUFFER} events, plus a small prefetch
     *     per lane, wait between the source and the handlers; past that the source is not asked for more, so a
     *     handler that never completes eventually stalls every lane (give handlers a timeout). Cancelling cancels the
     *     source and the running handlers. Handlers run on whatever thread delivers the event or completes the
     *     previous handler of their lane.
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT if {@code concurrency} is less than 1
     */
    public static Mono<Void> handle(Flux<Envelope> events, Function<? super Envelope, ? extends Mono<Void>> handler,
            int concurrency) {
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(handler, "handler");
        if (concurrency < 1) {
            throw Errors.invalidArgument("concurrency must be at least 1, not %d", concurrency);
        }
        // As many groups as flatMap's concurrency, so groupBy can never starve on a group nobody drains.
        return events.groupBy(e -> lane(key(e), concurrency), LANE_BUFFER)
                .flatMap(lane -> lane.concatMap(handler), concurrency)
                .then();
    }

    /** The task key of {@code envelope}: namespace plus container id, or namespace plus topic. */
    static String key(Envelope envelope) {
        Message message = new EventPayload(envelope).message();
        if (message != null) {
            FieldDescriptor field = message.getDescriptorForType().findFieldByName(CONTAINER_ID);
            if (field != null && !field.isRepeated() && field.getJavaType() == FieldDescriptor.JavaType.STRING) {
                String id = (String) message.getField(field);
                if (!id.isEmpty()) {
                    return envelope.namespace() + "/" + id;
                }
            }
        }
        // Keys only choose a lane: two keys that collide are serialized together, never reordered.
        return envelope.namespace() + envelope.topic();
    }

    static int lane(String key, int lanes) {
        int h = key.hashCode();
        return Math.floorMod(h ^ (h >>> 16), lanes);
    }
}
