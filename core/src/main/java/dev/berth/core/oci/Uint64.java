package dev.berth.core.oci;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.math.BigInteger;

/**
 * JSON codec for Go {@code uint64} values held in a Java {@code long} as unsigned: rlimits use
 * {@code 18446744073709551615} (RLIM_INFINITY), which a plain {@code long} cannot parse.
 */
final class Uint64 {
    private static final BigInteger MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Uint64() {
    }

    /** Writes the long as an unsigned decimal. */
    static final class Serializer extends JsonSerializer<Long> {
        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeNumber(Long.toUnsignedString(value));
        }
    }

    /** Reads an integer in 0..2^64-1 into a long, wrapping values above Long.MAX_VALUE to negatives. */
    static final class Deserializer extends JsonDeserializer<Long> {
        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                return (Long) ctxt.handleUnexpectedToken(Long.class, p);
            }
            BigInteger value = p.getBigIntegerValue();
            if (value.signum() < 0 || value.compareTo(MAX) > 0) {
                return (Long) ctxt.handleWeirdNumberValue(Long.class, value, "not an unsigned 64-bit integer");
            }
            return value.longValue();
        }
    }
}
