#pragma once

// Runs the real djdash binary (or any program) as a child process for end-to-end tests.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace djdash::test {

class child_process {
public:
  /// Starts `program` with `args` and `env` added to the current environment; stdout and stderr
  /// go to a log file (see output()).
  child_process(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env);
  ~child_process();  // SIGKILLs the child if it is still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool running();
  void signal(int sig);
  /// Waits up to `within` for the child to exit; returns its exit status, or nothing.
  std::optional<int> wait(std::chrono::milliseconds within);
  /// Returns everything the child wrote so far.
  std::string output() const;

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

/// Runs `program` to completion (at most `within`); returns its exit status and output.
std::pair<int, std::string> run_to_end(const std::string& program,
                                       const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& env,
                                       std::chrono::milliseconds within = std::chrono::seconds(60));

} // namespace djdash::test
