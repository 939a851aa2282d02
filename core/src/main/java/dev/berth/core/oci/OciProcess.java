package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The container process ({@code process} in {@code config.json}); named so as not to clash with
 * {@link dev.berth.core.Process}. {@code null} components and empty collections are left out of the JSON.
 *
 * @param terminal whether the process gets a pseudo-terminal; must match the task's {@code terminal} flag
 * @param consoleSize the terminal size, or {@code null}
 * @param user the user the process runs as, or {@code null} (uid 0, gid 0)
 * @param args the program and its arguments
 * @param env the environment as {@code NAME=value} entries
 * @param cwd the absolute working directory inside the container; runc requires it
 * @param capabilities the capability sets, or {@code null}
 * @param rlimits the resource limits
 * @param noNewPrivileges whether {@code PR_SET_NO_NEW_PRIVS} is set
 * @param apparmorProfile the AppArmor profile, or {@code null}
 * @param oomScoreAdj the OOM score adjustment, or {@code null}
 * @param selinuxLabel the SELinux label, or {@code null}
 * @param extensions fields this model does not name (such as {@code ioPriority} or {@code scheduler}), kept so that
 *     a parsed spec is written back unchanged; values are JSON-shaped ({@code Map}, {@code List}, {@code String},
 *     {@code Number}, {@code Boolean} or {@code null})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OciProcess(
        @Nullable Boolean terminal,
        @Nullable ConsoleSize consoleSize,
        @Nullable User user,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> args,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> env,
        @Nullable String cwd,
        @Nullable Capabilities capabilities,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Rlimit> rlimits,
        @Nullable Boolean noNewPrivileges,
        @Nullable String apparmorProfile,
        @Nullable Integer oomScoreAdj,
        @Nullable String selinuxLabel,
        @JsonAnySetter @JsonAnyGetter Map<String, @Nullable Object> extensions) {
    public OciProcess {
        args = Values.list(args);
        env = Values.list(env);
        rlimits = Values.list(rlimits);
        extensions = Values.extensions(extensions);
    }

    /** This process with other arguments, e.g. for an exec. */
    public OciProcess withArgs(List<String> args) {
        return new OciProcess(terminal, consoleSize, user, args, env, cwd, capabilities, rlimits, noNewPrivileges,
                apparmorProfile, oomScoreAdj, selinuxLabel, extensions);
    }

    /** This process with another environment ({@code NAME=value} entries). */
    public OciProcess withEnv(List<String> env) {
        return new OciProcess(terminal, consoleSize, user, args, env, cwd, capabilities, rlimits, noNewPrivileges,
                apparmorProfile, oomScoreAdj, selinuxLabel, extensions);
    }

    /** This process with another working directory. */
    public OciProcess withCwd(String cwd) {
        return new OciProcess(terminal, consoleSize, user, args, env, Objects.requireNonNull(cwd, "cwd"),
                capabilities, rlimits, noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel, extensions);
    }

    /** This process with or without a terminal; {@code null} leaves the key out. */
    public OciProcess withTerminal(@Nullable Boolean terminal) {
        return new OciProcess(terminal, consoleSize, user, args, env, cwd, capabilities, rlimits, noNewPrivileges,
                apparmorProfile, oomScoreAdj, selinuxLabel, extensions);
    }

    /**
     * The size of the process's terminal.
     *
     * @param height rows
     * @param width columns
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ConsoleSize(int height, int width) {
    }

    /**
     * The user a process runs as. Ids are unsigned 32-bit values.
     *
     * @param uid the user id
     * @param gid the group id
     * @param umask the umask, or {@code null} to keep the runtime's
     * @param additionalGids supplementary group ids; omitted from JSON when empty
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record User(long uid, long gid, @Nullable Integer umask,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Long> additionalGids) {
        public User {
            additionalGids = Values.list(additionalGids);
        }

        /** The user {@code uid} with primary group {@code gid} and nothing else. */
        public static User of(long uid, long gid) {
            return new User(uid, gid, null, List.of());
        }
    }

    /**
     * The capability sets, each a list of names such as {@code CAP_CHOWN}; empty sets are omitted from JSON.
     *
     * @param bounding the bounding set
     * @param effective the effective set
     * @param inheritable the inheritable set
     * @param permitted the permitted set
     * @param ambient the ambient set
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
            List<String> permitted, List<String> ambient) {
        public Capabilities {
            bounding = Values.list(bounding);
            effective = Values.list(effective);
            inheritable = Values.list(inheritable);
            permitted = Values.list(permitted);
            ambient = Values.list(ambient);
        }
    }

    /**
     * One resource limit set with {@code setrlimit(2)}. The limits are unsigned 64-bit values held in a
     * {@code long}: {@code -1} is RLIM_INFINITY, written as {@code 18446744073709551615}.
     *
     * @param type the limit, e.g. {@code RLIMIT_NOFILE}
     * @param hard the hard limit
     * @param soft the soft limit
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Rlimit(
            String type,
            @JsonSerialize(using = Uint64.Serializer.class) @JsonDeserialize(using = Uint64.Deserializer.class)
            long hard,
            @JsonSerialize(using = Uint64.Serializer.class) @JsonDeserialize(using = Uint64.Deserializer.class)
            long soft) {
        public Rlimit {
            Objects.requireNonNull(type, "type");
        }
    }
}
