package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.rpc.RpcStatus;
import dev.berth.core.internal.ttrpc.proto.KeyValue;
import dev.berth.core.internal.ttrpc.proto.Request;
import dev.berth.core.internal.ttrpc.proto.Response;
import dev.berth.core.internal.ttrpc.proto.Status;
import java.nio.ByteBuffer;
import java.util.Map;

/** The ttrpc frame layout (spec §1.2, §1.5) and the encoders both sides share. */
final class Frames {
    /** Header bytes: length (4), stream id (4), type (1), flags (1), all big-endian. */
    static final int HEADER_SIZE = 10;
    /** The largest payload either side accepts or sends: 4 MiB, header not counted. */
    static final int MAX_PAYLOAD = 4 << 20;
    static final int TYPE_REQUEST = 1;
    static final int TYPE_RESPONSE = 2;

    private Frames() {
    }

    /** A whole frame, header and payload, ready to write. */
    static byte[] frame(int streamId, int type, Message payload) {
        int length = payload.getSerializedSize();
        byte[] bytes = new byte[HEADER_SIZE + length];
        ByteBuffer.wrap(bytes).putInt(length).putInt(streamId).put((byte) type).put((byte) 0);
        if (length > 0) {
            payload.toByteString().copyTo(bytes, HEADER_SIZE);
        }
        return bytes;
    }

    /**
     * The {@code Request} of a call, fields in number order as the Go encoder writes them. Empty and zero fields are
     * left out (proto3), so a call without deadline or metadata encodes exactly like containerd's.
     */
    static Request request(String service, String method, ByteString payload, long timeoutNanos,
            Map<String, String> metadata) {
        Request.Builder request = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(payload)
                .setTimeoutNano(timeoutNanos);
        metadata.forEach((key, value) -> request.addMetadata(KeyValue.newBuilder().setKey(key).setValue(value)));
        return request.build();
    }

    /** A successful {@code Response} carrying {@code payload}. */
    static Response ok(ByteString payload) {
        return Response.newBuilder().setPayload(payload).build();
    }

    /** A failed {@code Response}: a status and no payload. */
    static Response failed(RpcStatus status) {
        return Response.newBuilder()
                .setStatus(Status.newBuilder().setCode(status.code()).setMessage(status.message()))
                .build();
    }

    /** The failure for a payload length above {@link #MAX_PAYLOAD}, worded as the ttrpc 1.1 shim words it. */
    static BerthException tooLarge(long length) {
        return Errors.of(ErrorKind.RESOURCE_EXHAUSTED, "message length %d exceed maximum message size of %d",
                length, MAX_PAYLOAD);
    }
}
