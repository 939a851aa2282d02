package dev.berth.tasks;

import dev.berth.core.ExitStatus;
import dev.berth.core.TaskStatus;

/**
 * The state of one process as the task manager sees it. Changes happen only by compare-and-set on an
 * {@code AtomicReference}, so two concurrent commands can never both pass a check.
 */
sealed interface ProcessState {
    ProcessState CREATED = new Created();
    ProcessState STARTING = new Starting();
    ProcessState DELETING = new Deleting();
    ProcessState DELETED = new Deleted();

    TaskStatus status();

    /** Whether the process is running or paused: it may have live processes. */
    default boolean live() {
        return this instanceof Starting || this instanceof Running || this instanceof Paused
                || this instanceof Exiting;
    }

    record Created() implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.CREATED;
        }
    }

    record Starting() implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.CREATED;
        }
    }

    record Running(int pid) implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.RUNNING;
        }
    }

    record Paused(int pid) implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.PAUSED;
        }
    }

    /**
     * The exit is known but not yet published: it came while the start was still being acknowledged (pid 0), or
     * its event is being published. Nothing may pass it, so {@code /tasks/start} always precedes
     * {@code /tasks/exit}, and a delete cannot publish {@code /tasks/delete} before the exit.
     */
    record Exiting(ExitStatus exit, int pid) implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.RUNNING;
        }
    }

    record Stopped(ExitStatus exit) implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.STOPPED;
        }
    }

    record Deleting() implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.STOPPED;
        }
    }

    record Deleted() implements ProcessState {
        public TaskStatus status() {
            return TaskStatus.DELETED;
        }
    }
}
