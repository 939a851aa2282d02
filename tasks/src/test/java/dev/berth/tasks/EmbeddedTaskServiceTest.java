package dev.berth.tasks;

import dev.berth.Berth;
import dev.berth.core.TaskService;

/** The behaviour suite against the embedded host-process runtime. */
class EmbeddedTaskServiceTest extends TaskServiceBehaviour {
    @Override
    protected TaskService newService() {
        return Berth.embedded();
    }
}
