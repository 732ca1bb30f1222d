#include "support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace djdash::test {

namespace {

std::string temp_log_path() {
  std::string tmpl = std::string{std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp"}
                     + "/djdash-child-XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd >= 0)
    close(fd);
  return tmpl;
}

} // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env)
  : log_path_(temp_log_path()) {
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    for (auto& [k, v] : env)
      setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
}

child_process::~child_process() {
  if (running()) {
    kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  unlink(log_path_.c_str());
}

bool child_process::running() {
  if (status_)
    return false;
  int st = 0;
  auto r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

void child_process::signal(int sig) {
  if (running())
    kill(pid_, sig);
}

std::optional<int> child_process::wait(std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string child_process::output() const {
  std::ifstream in{log_path_};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::pair<int, std::string> run_to_end(const std::string& program,
                                       const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& env,
                                       std::chrono::milliseconds within) {
  child_process p{program, args, env};
  auto status = p.wait(within);
  return {status.value_or(-1), p.output()};
}

} // namespace djdash::test
