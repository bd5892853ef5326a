// sluice-bench — stands in for sluice_transport.cpp when SLUICE_BENCH_WITH_SLUICE is OFF (the
// engine behind the public API is not linked in yet): the sluice rows say why they are missing.
#include "transport.hpp"

namespace sluice::bench {

std::unique_ptr<Transport> make_sluice_transport(bool, std::string& why_not) {
  why_not = "not built (configure with -DSLUICE_BENCH_WITH_SLUICE=ON once the engine links)";
  return nullptr;
}

}  // namespace sluice::bench
