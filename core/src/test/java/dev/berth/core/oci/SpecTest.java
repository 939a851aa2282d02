package dev.berth.core.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpecTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> CTR_ARGS =
            List.of("/bin/sh", "-c", "echo hello-out; echo hello-err >&2; env; sleep 300");
    static final String CTR_SPEC = resource("ctr-run-rootfs.json");

    @Test
    void parsingAndWritingTheCtrSpecGivesBackTheSameJson() throws IOException {
        String written = OciSpecs.toJson(OciSpecs.fromJson(CTR_SPEC));

        assertThat(JSON.readTree(written)).isEqualTo(JSON.readTree(CTR_SPEC));
    }

    @Test
    void defaultsAreWhatCtrRunRootfsGeneratesPlusAPath() throws IOException {
        Spec spec = Spec.defaults("cgtest", "t1", Path.of("/tmp/rootfs"), CTR_ARGS, Map.of(), "/");

        ObjectNode written = (ObjectNode) JSON.readTree(OciSpecs.toJson(spec));
        JsonNode env = ((ObjectNode) written.get("process")).remove("env");

        assertThat(written).isEqualTo(JSON.readTree(CTR_SPEC));
        assertThat(env).isEqualTo(JSON.valueToTree(List.of("PATH=" + Spec.DEFAULT_PATH)));
    }

    @Test
    void defaultsWithoutTheAddedPathEqualTheParsedCtrSpec() {
        Spec spec = Spec.defaults("cgtest", "t1", Path.of("/tmp/rootfs"), CTR_ARGS, Map.of(), "/");

        assertThat(spec.withProcess(Objects.requireNonNull(spec.process()).withEnv(List.of())))
                .isEqualTo(OciSpecs.fromJson(CTR_SPEC));
    }

    @Test
    void defaultsKeepAGivenPathAndSortTheEnvironmentByName() {
        Spec spec = Spec.defaults("ns", "id", Path.of("rootfs"), List.of("sh"),
                Map.of("PATH", "/bin", "B", "2", "A", "1=x"), "/work");

        OciProcess process = Objects.requireNonNull(spec.process());
        assertThat(process.env()).containsExactly("A=1=x", "B=2", "PATH=/bin");
        assertThat(process.cwd()).isEqualTo("/work");
        assertThat(Objects.requireNonNull(spec.root()).path()).isEqualTo("rootfs");
        assertThat(Objects.requireNonNull(spec.linux()).cgroupsPath()).isEqualTo("/ns/id");
    }

    @Test
    void defaultsRejectBadNamesArgsEnvironmentAndCwd() {
        Path rootfs = Path.of("/tmp/rootfs");
        List<String> args = List.of("/bin/true");

        assertInvalid(() -> Spec.defaults("bad ns", "t1", rootfs, args, Map.of(), "/"));
        assertInvalid(() -> Spec.defaults("ns", "-t1", rootfs, args, Map.of(), "/"));
        assertInvalid(() -> Spec.defaults("ns", "t1", rootfs, List.of(), Map.of(), "/"));
        assertInvalid(() -> Spec.defaults("ns", "t1", rootfs, args, Map.of("A=B", "c"), "/"));
        assertInvalid(() -> Spec.defaults("ns", "t1", rootfs, args, Map.of("", "c"), "/"));
        assertInvalid(() -> Spec.defaults("ns", "t1", rootfs, args, Map.of(), "work"));
    }

    @Test
    void theWildcardMinorStaysAbsentAndTheDenyRuleKeepsAllowFalse() throws IOException {
        JsonNode devices = JSON.readTree(OciSpecs.toJson(
                Spec.defaults("ns", "id", Path.of("/r"), List.of("/bin/true"), Map.of(), "/")))
                .at("/linux/resources/devices");

        assertThat(devices.get(0).has("allow")).isTrue();
        assertThat(devices.get(0).get("allow").booleanValue()).isFalse();
        assertThat(devices.get(0).has("type")).isFalse();
        assertThat(devices.get(8).get("major").intValue()).isEqualTo(136);
        assertThat(devices.get(8).has("minor")).isFalse();
    }

    @Test
    void aProcessAloneIsWrittenAsTheProcessObjectOfItsSpec() throws IOException {
        Spec defaults = Spec.defaults("default", "p", Path.of("/rootfs"), List.of("/bin/sh", "-c", "exit 5"),
                Map.of("A", "1"), "/");
        Spec spec = defaults.withProcess(defaults.process().withTerminal(false));
        ObjectMapper mapper = new ObjectMapper();
        JsonNode process = mapper.readTree(OciSpecs.toJson(spec.process()));
        assertThat(process).isEqualTo(mapper.readTree(OciSpecs.toJson(spec)).get("process"));
        assertThat(process.get("terminal").asBoolean(true)).isFalse();
        assertThat(process.get("env").get(0).asText()).isEqualTo("PATH=" + Spec.DEFAULT_PATH);
        assertThat(process.get("user").get("uid").asInt(-1)).isZero();
    }

    @Test
    void nullComponentsAndEmptyCollectionsAreLeftOutButFalseIsWritten() throws IOException {
        Spec empty = new Spec(null, null, null, null, List.of(), Map.of(), null, Map.of());
        Spec readonly = new Spec(null, null, new Root("/r", false), "", List.of(), Map.of(), null, Map.of());

        assertThat(OciSpecs.toJson(empty)).isEqualTo("{}");
        assertThat(JSON.readTree(OciSpecs.toJson(readonly)))
                .isEqualTo(JSON.readTree("{\"root\":{\"path\":\"/r\",\"readonly\":false},\"hostname\":\"\"}"));
    }

    @Test
    void unknownFieldsOfSpecProcessLinuxAndResourcesSurviveARoundTrip() throws IOException {
        String json = """
                {"ociVersion":"1.1.0","hooks":{"prestart":[{"path":"/bin/hook","args":["hook","x"]}]},
                 "domainname":null,
                 "process":{"args":["/bin/true"],"cwd":"/","ioPriority":{"class":"IOPRIO_CLASS_IDLE"}},
                 "linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]},"personality":{"domain":"LINUX"},
                          "resources":{"unified":{"memory.high":"1G"},"pids":{"limit":32}}}}
                """;

        Spec spec = OciSpecs.fromJson(json);

        assertThat(spec.extensions()).containsOnlyKeys("hooks", "domainname");
        assertThat(Objects.requireNonNull(spec.process()).extensions()).containsOnlyKeys("ioPriority");
        assertThat(Objects.requireNonNull(spec.linux()).extensions()).containsOnlyKeys("seccomp", "personality");
        assertThat(JSON.readTree(OciSpecs.toJson(spec))).isEqualTo(JSON.readTree(json));
    }

    @Test
    void unknownFieldsOfSmallRecordsAreDropped() throws IOException {
        Spec spec = OciSpecs.fromJson("{\"root\":{\"path\":\"/r\",\"future\":1}}");

        assertThat(JSON.readTree(OciSpecs.toJson(spec))).isEqualTo(JSON.readTree("{\"root\":{\"path\":\"/r\"}}"));
    }

    @Test
    void anInfiniteRlimitIsReadAsMinusOneAndWrittenBackUnsigned() throws IOException {
        String json = "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,"
                + "\"soft\":9223372036854775808}]}}";

        Spec spec = OciSpecs.fromJson(json);

        OciProcess.Rlimit rlimit = Objects.requireNonNull(spec.process()).rlimits().get(0);
        assertThat(rlimit.hard()).isEqualTo(-1L);
        assertThat(rlimit.soft()).isEqualTo(Long.MIN_VALUE);
        assertThat(JSON.readTree(OciSpecs.toJson(spec))).isEqualTo(JSON.readTree(json));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "{", "null", "[]", "\"spec\"", "{} {}", "{\"ociVersion\":1.0.2}",
        "{\"root\":{}}",
        "{\"mounts\":[{\"type\":\"proc\"}]}",
        "{\"process\":{\"args\":\"/bin/sh\"}}",
        "{\"process\":{\"user\":{\"uid\":null,\"gid\":0}}}",
        "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":-1,\"soft\":1}]}}",
        "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551616,\"soft\":1}]}}",
        "{\"annotations\":{\"a\":null}}",
        "{\"mounts\":[null]}"
    })
    void malformedOrMisshapenJsonIsAnInvalidArgument(String json) {
        assertInvalid(() -> OciSpecs.fromJson(json));
    }

    static void assertInvalid(Runnable call) {
        Throwable thrown = catchThrowable(call::run);
        assertThat(thrown).isNotNull();
        assertThat(Errors.kindOf(thrown)).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    static String resource(String name) {
        try (InputStream in = SpecTest.class.getResourceAsStream(name)) {
            return new String(Objects.requireNonNull(in, name).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
