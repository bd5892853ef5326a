// Built only by the test Layers.TheBuildRefusesAnIncludeFromALayerAbove (CMakeLists.txt), as a
// file of the shm layer, which must not see core's headers (docs/layers.md): the test passes
// when this fails to compile for want of the header.
#include "core/engine.hpp"
