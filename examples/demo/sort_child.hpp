// sluice-demo, part 2: anonymous pipes as a child process's stdin and stdout.
#pragma once

namespace demo {

/// Feeds a few words to `sort` through one anonymous pipe, reads the result through another,
/// prints it and checks it. Returns whether it came back sorted.
bool run_sort_child();

}  // namespace demo
