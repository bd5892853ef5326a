// sluice-bench — the readable table and the JSON array.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "job.hpp"

namespace sluice::bench {

struct Row {
  JobSpec spec;
  JobResult result;
};

/// Where and how the numbers were made (printed above the table; STYLE: record CPU, kernel,
/// flags).
struct RunInfo {
  std::string cpu_model;
  std::string kernel;
  std::string compiler;
  std::string pinning;
  int rounds = 0;
  bool quick = false;
};

RunInfo collect_run_info(const std::vector<int>& cpus, int rounds, bool quick);

/// "64 B", "4 KiB", "1 MiB".
std::string format_size(std::size_t bytes);

/// Tables per test with a ratio column against pipe(2) of the same size, and one comparing
/// win32-* rows with the C++ API row of the same mode (sluice-*).
void print_table(std::FILE* out, const std::vector<Row>& rows, const RunInfo& info);
/// One JSON array of objects, nothing else.
void print_json(std::FILE* out, const std::vector<Row>& rows);

}  // namespace sluice::bench
