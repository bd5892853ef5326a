// A private pipe namespace per test, unique pipe names, and a descriptor-leak check at the end.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/named_pipe.hpp"
#include "sluice/registry.hpp"

namespace sluice::testing {

/// Descriptors open in this process now.
int open_descriptor_count();

/// Bytes of a string, for write().
inline std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
inline std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class PipeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// `\\.\pipe\<test name>-<suffix>`, unique per test.
  std::string pipe_name(std::string_view suffix = "p") const;

  Registry& registry() { return *registry_; }
  /// A server end of pipe_name() of `type`, both buffer sizes `quota`.
  ServerEnd sized_server(std::uint32_t quota, PipeType type);
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::optional<Registry> registry_;
  int descriptors_at_start_ = 0;
};

}  // namespace sluice::testing
