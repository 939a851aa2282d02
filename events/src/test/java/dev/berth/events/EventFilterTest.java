package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.berth.core.BerthException;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.proto.containerd.events.ContainerCreate;
import dev.berth.events.proto.containerd.events.ContainerDelete;
import dev.berth.events.proto.containerd.events.ContainerUpdate;
import dev.berth.events.proto.containerd.events.TaskCreate;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskIO;
import dev.berth.events.proto.containerd.types.Mount;
import java.time.Instant;
import java.util.List;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** containerd's filter language, row by row from the spec's §5 (all rows there were checked against a daemon). */
class EventFilterTest {
    static final TaskExit EXIT_MESSAGE = TaskExit.newBuilder()
            .setContainerId("web1").setId("exec7").setPid(5).setExitStatus(137)
            .setExitedAt(Timestamp.newBuilder().setSeconds(1_700_000_000L))
            .build();
    static final Envelope EXIT = event("myns", "/tasks/exit", EXIT_MESSAGE);
    static final Envelope INIT_EXIT = event("myns", "/tasks/exit", TaskExit.newBuilder()
            .setContainerId("web1").setId("web1").setPid(4).build());
    static final Envelope TASK_CREATE = event("myns", "/tasks/create", TaskCreate.newBuilder()
            .setContainerId("fp1").setBundle("/run/containerd/myns/fp1").setPid(5)
            .addRootfs(Mount.newBuilder().setType("bind").setSource("/rootfs"))
            .setIo(TaskIO.newBuilder().setStdout("/run/out").setTerminal(true))
            .build());
    /** A TaskIO payload on its own: its terminal is false, which is still present. */
    static final Envelope TASK_IO = event("myns", "/test/io", TaskIO.newBuilder().setStdout("/run/out").build());
    static final Envelope CONTAINER_UPDATE = event("myns", "/containers/update", ContainerUpdate.newBuilder()
            .setId("fp1").setImage("docker.io/library/redis:7")
            .putLabels("app/name", "web")
            .putLabels("app.example.com/role", "db")
            .putLabels("a.b", "dotted")
            .putLabels("blank", "")
            .putLabels("quoted", "'x'")
            .putLabels("say", "say \"hi\"")
            .putLabels("pipe", "a|b")
            .putLabels("escapes", "\u0007\b\f\n\r\t\u000b\\")
            .putLabels("accent", "caf\u00e9")
            .build());
    static final Envelope CONTAINER_CREATE = event("myns", "/containers/create", ContainerCreate.newBuilder()
            .setId("web1").setImage("docker.io/library/nginx:1")
            .setRuntime(ContainerCreate.Runtime.newBuilder().setName("io.containerd.runc.v2"))
            .build());
    static final Envelope CONTAINER_DELETE = event("myns", "/containers/delete",
            ContainerDelete.newBuilder().setId("web1").build());
    /** A payload whose type URL is not registered: it has no event fields. */
    static final Envelope UNREGISTERED = new Envelope(Instant.EPOCH, "myns", "/tasks/exit",
            Any.newBuilder().setTypeUrl("example.com.TaskExit").setValue(EXIT_MESSAGE.toByteString()).build());
    /** The Google-style prefixed URL is not what containerd registers either. */
    static final Envelope PREFIXED = new Envelope(Instant.EPOCH, "myns", "/tasks/exit", Any.pack(EXIT_MESSAGE));
    /** A registered type URL whose bytes do not parse. */
    static final Envelope CORRUPT = new Envelope(Instant.EPOCH, "myns", "/tasks/exit",
            Any.newBuilder().setTypeUrl("containerd.events.TaskExit")
                    .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff})).build());
    static final Envelope OTHER_NS = event("other", "/tasks/exit", EXIT_MESSAGE);

    static Envelope event(String namespace, String topic, Message payload) {
        return new Envelope(Instant.EPOCH, namespace, topic, EventTypes.pack(payload));
    }

    static Stream<Arguments> matching() {
        return Stream.of(
                // §5.1 combining filters
                row("no entry matches everything", List.of(), EXIT, true),
                row("an empty entry matches everything", List.of(""), EXIT, true),
                row("an empty entry among others matches everything", List.of("namespace==nope", ""), EXIT, true),
                row("entries are OR-ed: the second matches", List.of("namespace==nope", "topic==\"/tasks/exit\""),
                        EXIT, true),
                row("entries are OR-ed: none matches", List.of("namespace==nope", "topic==\"/tasks/start\""),
                        EXIT, false),
                row("selectors are AND-ed: all match", List.of("namespace==myns,topic==\"/tasks/exit\""),
                        EXIT, true),
                row("selectors are AND-ed: one fails", List.of("namespace==myns,topic==\"/tasks/start\""),
                        EXIT, false),
                row("selectors are AND-ed: the other fails", List.of("namespace==myns,topic==\"/tasks/exit\""),
                        OTHER_NS, false),

                // §5.2 quoting
                row("a double-quoted value", List.of("event.id==\"fp1\""), CONTAINER_UPDATE, true),
                row("\\x escape", List.of("event.id==\"fp\\x31\""), CONTAINER_UPDATE, true),
                row("\\u escape", List.of("event.id==\"\\u0066p1\""), CONTAINER_UPDATE, true),
                row("\\U escape", List.of("event.id==\"\\U00000066p1\""), CONTAINER_UPDATE, true),
                row("octal escape", List.of("event.id==\"\\146p1\""), CONTAINER_UPDATE, true),
                row("\\x escapes are bytes of UTF-8", List.of("event.labels.accent==\"caf\\xc3\\xa9\""),
                        CONTAINER_UPDATE, true),
                row("dots and slashes inside a bare value", List.of("event.image==docker.io/library/nginx:1"),
                        CONTAINER_CREATE, true),
                row("a quoted regex may start with a dot", List.of("topic~=\".*exit\""), EXIT, true),
                row("a bare non-ASCII value", List.of("event.labels.accent==caf\u00e9"), CONTAINER_UPDATE, true),
                row("the single-letter escapes", List.of("event.labels.escapes==\"\\a\\b\\f\\n\\r\\t\\v\\\\\""),
                        CONTAINER_UPDATE, true),
                row("an escaped double quote", List.of("event.labels.say==\"say \\\"hi\\\"\""),
                        CONTAINER_UPDATE, true),
                row("single quotes are part of a bare value", List.of("event.id=='fp1'"), CONTAINER_UPDATE, false),
                row("single quotes are matched literally", List.of("event.labels.quoted=='x'"),
                        CONTAINER_UPDATE, true),
                row("a single-quoted regex is literal too", List.of("topic~='^/tasks/'"), EXIT, false),
                row("a quoted field", List.of("\"namespace\"==myns"), EXIT, true),
                row("a quoted field inside a path", List.of("event.\"container_id\"==web1"), EXIT, true),
                row("a quoted map key with a slash", List.of("event.labels.\"app/name\"==web"),
                        CONTAINER_UPDATE, true),
                row("a map key is the rest of the path re-joined with dots", List.of("event.labels.a.b==dotted"),
                        CONTAINER_UPDATE, true),
                row("a bare regex", List.of("topic~=^/tasks/"), EXIT, true),
                row("a bare regex that does not match", List.of("topic~=^/tasks/"), CONTAINER_CREATE, false),
                row("a double-quoted regex", List.of("topic~=\"^/tasks/\""), EXIT, true),
                row("a slash-quoted regex with escaped slashes", List.of("topic~=/^\\/tasks\\//"), EXIT, true),
                row("a pipe-quoted regex", List.of("topic~=|^/tasks/|"), EXIT, true),
                row("an escaped pipe in a pipe-quoted regex", List.of("event.labels.pipe~=|^a[\\|]b$|"),
                        CONTAINER_UPDATE, true),
                row("a slash-quoted regex with a group", List.of("topic~=/^\\/tasks\\/(exit|start)$/"),
                        EXIT, true),

                // §5.2 whitespace
                row("whitespace around the operator", List.of("topic ~= \"^/tasks/\""), EXIT, true),
                row("whitespace after a comma", List.of("namespace==myns, topic==\"/tasks/exit\""), EXIT, true),
                row("whitespace at the start", List.of("  \tnamespace==myns"), EXIT, true),
                row("whitespace before a bare value", List.of("namespace== myns"), EXIT, true),

                // §5.3 matching
                row("presence of a set string", List.of("event.container_id"), EXIT, true),
                row("presence of an empty string", List.of("event.checkpoint"), TASK_CREATE, false),
                row("presence of namespace", List.of("namespace"), EXIT, true),
                row("== is case-sensitive", List.of("namespace==MYNS"), EXIT, false),
                row("== on a prefix does not match", List.of("namespace==my"), EXIT, false),
                row("!= with the same value", List.of("namespace!=myns"), EXIT, false),
                row("!= with another value", List.of("namespace!=other"), EXIT, true),
                row("!= on an absent map key matches", List.of("event.labels.zzz!=x"), CONTAINER_UPDATE, true),
                row("!= on an absent field matches", List.of("event.nope!=x"), EXIT, true),
                row("!= \"\" on an empty field does not match", List.of("event.checkpoint!=\"\""),
                        TASK_CREATE, false),
                row("~= on an absent field tests the empty string", List.of("event.checkpoint~=^$"),
                        TASK_CREATE, true),
                row("~= on an absent field with a non-empty regex", List.of("event.zzz~=x"), EXIT, false),
                row("~= is not anchored", List.of("topic~=exi"), EXIT, true),
                row("~= with (?i)", List.of("topic~=(?i)^/TASKS/EXIT$"), EXIT, true),
                row("~= without (?i) is case-sensitive", List.of("topic~=^/TASKS/"), EXIT, false),
                row("== \"\" never matches an empty field", List.of("event.checkpoint==\"\""), TASK_CREATE, false),
                row("== \"\" never matches a set field", List.of("event.id==\"\""), EXIT, false),
                row("== \"\" never matches namespace", List.of("namespace==\"\""), EXIT, false),

                // §5.4 fields
                row("timestamp is never present", List.of("timestamp"), EXIT, false),
                row("timestamp!= matches as if empty", List.of("timestamp!=x"), EXIT, true),
                row("an unknown top-level field is absent", List.of("id==web1"), EXIT, false),
                row("field names are case-sensitive", List.of("Namespace==myns"), EXIT, false),
                row("namespace ignores the rest of its path", List.of("namespace.x==myns"), EXIT, true),
                row("a string field ignores the rest of its path", List.of("event.container_id.x==web1"),
                        EXIT, true),
                row("event alone names nothing", List.of("event"), EXIT, false),
                row("a number is never present", List.of("event.pid==5"), EXIT, false),
                row("a number is absent for presence", List.of("event.exit_status"), EXIT, false),
                row("a number != its value matches", List.of("event.pid!=5"), EXIT, true),
                row("a timestamp is never present", List.of("event.exited_at"), EXIT, false),
                row("a repeated field is never present", List.of("event.rootfs"), TASK_CREATE, false),
                row("a repeated field's elements are never present", List.of("event.rootfs.type==bind"),
                        TASK_CREATE, false),
                row("a JSON name is not a proto name", List.of("event.containerId==web1"), EXIT, false),
                row("a nested message field", List.of("event.io.stdout==\"/run/out\""), TASK_CREATE, true),
                row("a nested message itself names nothing", List.of("event.io"), TASK_CREATE, false),
                row("a nested runtime name", List.of("event.runtime.name==io.containerd.runc.v2"),
                        CONTAINER_CREATE, true),
                row("an unset nested message is absent", List.of("event.runtime.name"), CONTAINER_DELETE, false),
                row("a nested bool", List.of("event.io.terminal==true"), TASK_CREATE, true),
                row("a false bool is present", List.of("event.terminal"), TASK_IO, true),
                row("a false bool reads false", List.of("event.terminal==false"), TASK_IO, true),
                row("a map key that is set", List.of("event.labels.\"app/name\""), CONTAINER_UPDATE, true),
                row("a map key set to \"\" is present", List.of("event.labels.blank"), CONTAINER_UPDATE, true),
                row("a map key set to \"\" equals \"\"", List.of("event.labels.blank==\"\""),
                        CONTAINER_UPDATE, true),
                row("a missing map key is absent", List.of("event.labels.zzz"), CONTAINER_UPDATE, false),
                row("an unregistered type URL has no event fields", List.of("event.container_id==web1"),
                        UNREGISTERED, false),
                row("an unregistered type URL: != matches", List.of("event.x!=abc"), UNREGISTERED, true),
                row("an unregistered type URL: != on a real field matches", List.of("event.container_id!=abc"),
                        UNREGISTERED, true),
                row("an unregistered type URL keeps the envelope's fields", List.of("namespace==myns"),
                        UNREGISTERED, true),
                row("a prefixed type URL has no event fields", List.of("event.container_id"), PREFIXED, false),
                row("a prefixed type URL: != matches", List.of("event.x!=abc"), PREFIXED, true),
                row("a payload that does not parse has no event fields", List.of("event.container_id"),
                        CORRUPT, false),

                // §5.5 examples
                row("task events in one namespace", List.of("namespace==myns,topic~=\"^/tasks/\""), EXIT, true),
                row("task events in one namespace, not a container event",
                        List.of("namespace==myns,topic~=\"^/tasks/\""), CONTAINER_CREATE, false),
                row("task events in one namespace, not another namespace",
                        List.of("namespace==myns,topic~=\"^/tasks/\""), OTHER_NS, false),
                row("exits of one container: an exec",
                        List.of("namespace==myns,topic==\"/tasks/exit\",event.container_id==web1"), EXIT, true),
                row("exits of one container: the init",
                        List.of("namespace==myns,topic==\"/tasks/exit\",event.container_id==web1"), INIT_EXIT, true),
                row("exit of one exec",
                        List.of("topic==\"/tasks/exit\",event.container_id==web1,event.id==exec7"), EXIT, true),
                row("exit of one exec, not the init",
                        List.of("topic==\"/tasks/exit\",event.container_id==web1,event.id==exec7"), INIT_EXIT, false),
                row("create or delete of containers: create",
                        List.of("topic==\"/containers/create\"", "topic==\"/containers/delete\""),
                        CONTAINER_CREATE, true),
                row("create or delete of containers: delete",
                        List.of("topic==\"/containers/create\"", "topic==\"/containers/delete\""),
                        CONTAINER_DELETE, true),
                row("create or delete of containers: not update",
                        List.of("topic==\"/containers/create\"", "topic==\"/containers/delete\""),
                        CONTAINER_UPDATE, false),
                row("a label key that contains a slash", List.of("event.labels.\"app.example.com/role\"==db"),
                        CONTAINER_UPDATE, true));
    }

    static Arguments row(String name, List<String> filters, Envelope envelope, boolean matches) {
        return arguments(name, filters, envelope, matches);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matching")
    void filterMatchesAsContainerdDoes(String name, List<String> filters, Envelope envelope, boolean matches) {
        EventFilter filter = EventFilter.parse(filters.toArray(String[]::new));

        assertThat(filter.test(envelope)).as("%s on %s", filters, envelope.topic()).isEqualTo(matches);
        assertThat(filter.test(envelope, new EventPayload(envelope))).isEqualTo(matches);
    }

    static Stream<Arguments> parseErrors() {
        return Stream.of(
                // §5.2 values that start with /, and a / in a bare field
                error("a value starting with / outside ~=", "topic==/tasks/exit", 7),
                error("a slash-quoted value after !=", "topic!=/tasks/", 7),
                error("a pipe-quoted value after ==", "topic==|/tasks/exit|", 7),
                error("a slash-quoted field", "/topic/==x", 0),
                error("a / inside a bare field", "event.labels.app/name==web", 16),
                // operators and values
                error("===", "id===fp1", 2),
                error("=~", "topic=~^/tasks/", 5),
                error("=", "id=fp1", 2),
                error("an operator with no value", "id==", 4),
                error("an operator followed by a comma", "id==,x==y", 4),
                error("a field that is not a field", "a-b==c", 1),
                // the scanner reads "." as a separator and "=!~" as operator characters before it reads a value
                error("a bare value starting with a dot", "topic~=.*", 7),
                error("a bare value starting with an operator character", "id==!x", 2),
                error("an empty field in a path", "event..id==x", 6),
                error("a field with nothing but an operator", "==x", 0),
                // separators
                error("a leading comma", ",id==fp1", 0),
                error("a trailing comma", "id==fp1,", 8),
                error("two commas", "id==fp1,,x==y", 8),
                // §5.2 whitespace after a value or a field
                error("whitespace after a value at the end", "id==fp1 ", 7),
                error("whitespace after a value before a comma", "id==fp1 ,x==y", 7),
                error("whitespace after a field at the end", "id ", 3),
                error("whitespace after a field before a comma", "id ,x==y", 3),
                error("only whitespace", "   ", 3),
                // quoting
                error("an unterminated quoted field", "\"id==fp1", 0),
                error("an unterminated quoted value", "id==\"fp1", 4),
                error("a newline inside quotes", "id==\"f\np1\"", 4),
                error("input after a quoted value", "id==\"fp1\"x", 9),
                error("an unknown escape", "id==\"\\q\"", 4),
                error("an escaped slash inside double quotes", "id==\"\\/\"", 4),
                error("a short \\x escape", "id==\"\\x3\"", 4),
                error("a short \\u escape", "id==\"\\u006\"", 4),
                error("an octal escape above 255", "id==\"\\777\"", 4),
                error("a \\U escape above U+10FFFF", "id==\"\\U00110000\"", 4),
                error("a NUL character", "id\u0000==x", 2),
                // §5.3 deliberate difference: an invalid regex is rejected at parse time
                error("an invalid bare regex", "topic~=(", 7),
                error("an invalid quoted regex", "topic~=\"[a-\"", 7),
                error("an invalid regex after valid selectors", "namespace==myns, topic~=\"a{2,1}\"", 24));
    }

    static Arguments error(String name, String filter, int position) {
        return arguments(name, filter, position);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("parseErrors")
    void malformedEntryFailsWithInvalidArgumentAtItsPosition(String name, String filter, int position) {
        Throwable error = catchThrowable(() -> EventFilter.parse(filter));

        assertThat(error).isInstanceOf(BerthException.class);
        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).as("kind of %s", error).isTrue();
        assertThat(error.getMessage()).contains("position " + position);
    }

    @Test
    void anErrorInAnyEntryFailsTheWholeFilter() {
        Throwable error = catchThrowable(() -> EventFilter.parse("namespace==myns", "id=="));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).isTrue();
    }

    @Test
    void anEmptyEntryDoesNotExcuseAnErrorInAnother() {
        Throwable error = catchThrowable(() -> EventFilter.parse("", "topic==/tasks/exit"));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).isTrue();
    }

    @Test
    void invalidRegexKeepsThePatternSyntaxExceptionAsCause() {
        Throwable error = catchThrowable(() -> EventFilter.parse("topic~=(unclosed"));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).isTrue();
        assertThat(error).hasCauseInstanceOf(PatternSyntaxException.class);
    }

    @Test
    void syntaxErrorIsReportedBeforeAnInvalidRegexInAnEarlierEntry() {
        Throwable error = catchThrowable(() -> EventFilter.parse("topic~=(", "id==fp1 "));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).isTrue();
        assertThat(error.getCause()).isNull();
    }

    @Test
    void noEntryOrAnEmptyEntryMatchesEverything() {
        assertThat(EventFilter.parse().matchesEverything()).isTrue();
        assertThat(EventFilter.parse("").matchesEverything()).isTrue();
        assertThat(EventFilter.parse("namespace==myns", "").matchesEverything()).isTrue();
    }

    @Test
    void aFilterWithSelectorsDoesNotMatchEverything() {
        assertThat(EventFilter.parse("namespace").matchesEverything()).isFalse();
        assertThat(EventFilter.parse("namespace!=x", "topic~=x").matchesEverything()).isFalse();
    }

    @Test
    void oneFilterReadsTheSameFieldNameInPayloadsOfDifferentTypes() {
        EventFilter filter = EventFilter.parse("event.id==fp1");

        for (int i = 0; i < 3; i++) {
            assertThat(filter.test(CONTAINER_UPDATE)).isTrue();
            assertThat(filter.test(INIT_EXIT)).isFalse();
            assertThat(filter.test(TASK_CREATE)).isFalse(); // TaskCreate has no id field
            assertThat(filter.test(UNREGISTERED)).isFalse();
        }
    }

    @Test
    void filtersShareOneDecodedPayload() {
        EventFilter byContainer = EventFilter.parse("event.container_id==web1");
        EventFilter byExec = EventFilter.parse("event.id==exec7");
        EventPayload payload = new EventPayload(EXIT);

        assertThat(byContainer.test(EXIT, payload)).isTrue();
        Message decoded = payload.message();
        assertThat(byExec.test(EXIT, payload)).isTrue();
        assertThat(payload.message()).isSameAs(decoded);
    }

    @Test
    void parsedFilterNamesItsEntries() {
        assertThat(EventFilter.parse("namespace==myns", "topic~=^/tasks/").toString())
                .contains("namespace==myns").contains("topic~=^/tasks/");
    }
}
