// sluice-bench — stands in for sluice_transport.cpp when the sluice transports are not linked (the
// engine behind the public API is not linked in yet): the sluice rows say why they are missing.
#include "transport.hpp"

namespace sluice::bench {

std::unique_ptr<Transport> make_sluice_transport(bool, std::string& why_not) {
  why_not = "not built (SLUICE_BENCH_WITH_SLUICE resolved to OFF at configure time)";
  return nullptr;
}

}  // namespace sluice::bench
