// djdash-eval: how well the SMS classifier does on labelled sets it was not trained on.
//
//   djdash-eval [--intents FILE] [--entities FILE] [--errors]
//
// Intents: fastText lines `__label__<intent> <text>` (default agents/corpus/intents_heldout.txt),
// classified exactly as the node does (opt-out rules, then the model). Prints accuracy, the
// confusion matrix and per-intent precision / recall, and the training time and throughput.
// Entities: JSON lines {"text", "now", "tz", "entities"} (default
// agents/corpus/entities_eval.jsonl, skipped when absent); prints per-entity accuracy.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/classifier.hpp"

namespace {

using namespace djdash::agents;
using json = nlohmann::json;

struct labelled {
  std::string intent;
  std::string text;
};

std::vector<labelled> read_intents(const std::string& path) {
  std::vector<labelled> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (line.rfind("__label__", 0) != 0 || space == std::string::npos)
      continue;
    out.push_back({line.substr(9, space - 9), line.substr(space + 1)});
  }
  return out;
}

int index_of(const std::string& intent) {
  for (int i = 0; i < 6; ++i)
    if (intent == intent_names[i])
      return i;
  return -1;
}

void print_confusion(const int (&m)[6][6]) {
  std::printf("\nconfusion matrix (rows: expected, columns: predicted)\n%-13s", "");
  for (auto* n : intent_names)
    std::printf("%13s", n);
  std::printf("\n");
  for (int r = 0; r < 6; ++r) {
    std::printf("%-13s", intent_names[r]);
    for (int c = 0; c < 6; ++c)
      std::printf("%13d", m[r][c]);
    std::printf("\n");
  }
  std::printf("\n%-13s %9s %9s %9s %7s\n", "intent", "precision", "recall", "f1", "n");
  for (int i = 0; i < 6; ++i) {
    int tp = m[i][i], predicted = 0, actual = 0;
    for (int k = 0; k < 6; ++k) {
      predicted += m[k][i];
      actual += m[i][k];
    }
    double p = predicted ? 100.0 * tp / predicted : 0.0;
    double r = actual ? 100.0 * tp / actual : 0.0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    std::printf("%-13s %8.1f%% %8.1f%% %8.1f%% %7d\n", intent_names[i], p, r, f, actual);
  }
}

int eval_intents(const std::string& path, bool show_errors) {
  auto set = read_intents(path);
  if (set.empty()) {
    std::fprintf(stderr, "no labelled lines in %s\n", path.c_str());
    return 1;
  }
  auto c0 = std::clock();
  auto model = default_intent_model();
  double train_cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  auto now = sys_seconds{std::chrono::seconds{1780000000}};
  int m[6][6] = {};
  int ok = 0, model_ok = 0;
  for (auto& x : set) {
    auto got = classify(*model, x.text, now, "America/Chicago")["intent"].get<std::string>();
    int r = index_of(x.intent), c = index_of(got);
    if (r < 0 || c < 0)
      continue;
    ++m[r][c];
    ok += r == c;
    model_ok += model->predict(x.text).intent == x.intent;
    if (r != c && show_errors)
      std::printf("  %s -> %s: %s\n", x.intent.c_str(), got.c_str(), x.text.c_str());
  }
  std::printf("intents: %s\n", path.c_str());
  std::printf("accuracy: %.1f%% (%d/%zu); model alone, without the opt-out rules: %.1f%%\n",
              100.0 * ok / set.size(), ok, set.size(), 100.0 * model_ok / set.size());
  print_confusion(m);
  // Throughput on one thread (CPU time, so other load on the machine does not count): the
  // whole classify (rules, model, entities), and the model and the entity rules alone.
  auto rate = [&](auto&& f) {
    auto c = std::clock();
    std::size_t n = 0;
    while (n < 5000)
      for (auto& x : set)
        f(x.text), ++n;
    return n / (double(std::clock() - c) / CLOCKS_PER_SEC);
  };
  auto all = rate([&](const std::string& t) { (void) classify(*model, t, now, "America/Chicago"); });
  auto alone = rate([&](const std::string& t) { (void) model->predict(t); });
  auto rules = rate([&](const std::string& t) { (void) extract_entities(t, now, "America/Chicago"); });
  std::printf("\ntraining: %.2f s CPU\nthroughput per core: classify %.0f messages/s (intent model "
              "alone %.0f/s, entity rules alone %.0f/s)\n",
              train_cpu, all, alone, rules);
  return 0;
}

bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number())
    return std::fabs(a.get<double>() - b.get<double>()) < 1e-6;
  return a == b;
}

void eval_entities(const std::string& path, bool show_errors) {
  std::ifstream in(path);
  if (!in) {
    std::printf("\nentities: %s not found, skipped\n", path.c_str());
    return;
  }
  struct tally {
    int expected = 0, right = 0, spurious = 0;
  };
  std::map<std::string, tally> keys;
  int lines = 0, exact = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text"))
      continue;
    auto now = parse_rfc3339(j.value("now", ""));
    if (!now)
      continue;
    auto want = j.value("entities", json::object());
    auto got = extract_entities(j["text"].get<std::string>(), *now,
                                j.value("tz", j.value("timezone", "UTC")));
    ++lines;
    bool all = true;
    for (auto& [k, v] : want.items()) {
      auto& t = keys[k];
      ++t.expected;
      bool hit = got.contains(k) && same_value(got[k], v);
      t.right += hit;
      all = all && hit;
    }
    for (auto& [k, v] : got.items())
      if (!want.contains(k)) {
        ++keys[k].spurious;
        all = false;
      }
    exact += all;
    if (!all && show_errors)
      std::printf("  want %s got %s: %s\n", want.dump().c_str(), got.dump().c_str(),
                  j["text"].get<std::string>().c_str());
  }
  std::printf("\nentities: %s (%d messages)\n", path.c_str(), lines);
  std::printf("%-13s %9s %9s %9s\n", "entity", "accuracy", "expected", "spurious");
  for (auto& [k, t] : keys)
    std::printf("%-13s %8.1f%% %9d %9d\n", k.c_str(),
                t.expected + t.spurious ? 100.0 * t.right / (t.expected + t.spurious) : 0.0,
                t.expected, t.spurious);
  if (lines)
    std::printf("messages with every entity right (and nothing extra): %.1f%% (%d/%d)\n",
                100.0 * exact / lines, exact, lines);
}

} // namespace

int main(int argc, char** argv) {
  std::string intents = DJDASH_SOURCE_DIR "/agents/corpus/intents_heldout.txt";
  std::string entities = DJDASH_SOURCE_DIR "/agents/corpus/entities_eval.jsonl";
  bool errors = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--intents" && i + 1 < argc)
      intents = argv[++i];
    else if (a == "--entities" && i + 1 < argc)
      entities = argv[++i];
    else if (a == "--errors")
      errors = true;
    else {
      std::fprintf(stderr, "usage: djdash-eval [--intents FILE] [--entities FILE] [--errors]\n");
      return 2;
    }
  }
  if (int rc = eval_intents(intents, errors))
    return rc;
  eval_entities(entities, errors);
  return 0;
}
