package dev.berth.events;

/** The topics of task lifecycle events, as containerd names them. */
public final class TaskTopics {
    public static final String CREATE = "/tasks/create";
    public static final String START = "/tasks/start";
    public static final String EXIT = "/tasks/exit";
    public static final String DELETE = "/tasks/delete";
    public static final String EXEC_ADDED = "/tasks/exec-added";
    public static final String EXEC_STARTED = "/tasks/exec-started";
    public static final String PAUSED = "/tasks/paused";
    public static final String RESUMED = "/tasks/resumed";
    public static final String OOM = "/tasks/oom";
    public static final String CHECKPOINTED = "/tasks/checkpointed";

    private TaskTopics() {
    }
}
