#pragma once

namespace conveyor::ops {

// Stops OpenCV from running its own thread pool (process-wide, done once): the runtime pins each worker
// to its cores, and an OpenCV pool would spread image work over every core of the machine.
void use_single_threaded_opencv();

}  // namespace conveyor::ops
