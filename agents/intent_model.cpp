#include "agents/intent_model.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include <fasttext/fasttext.h>

namespace djdash::agents {

namespace {

constexpr std::size_t max_text = 2000; // SMS bodies are ≤ 1600 characters; bound the work
constexpr std::string_view label_prefix = "__label__";

/// Appends the ASCII letter for a two-byte UTF-8 Latin-1 letter (0xC3 xx), or nothing.
void fold_latin1(unsigned char second, std::string& out) {
  static constexpr const char* map = // 0xC380 .. 0xC3BF
    "aaaaaaaceeeeiiiidnooooo ouuuuyts"  // upper half folds to lower case
    "aaaaaaaceeeeiiiidnooooo ouuuuyty";
  if (second >= 0x80 && second <= 0xBF && map[second - 0x80] != ' ')
    out += map[second - 0x80];
}

/// Splits raw text into whitespace-separated tokens with letters folded to lower-case ASCII and
/// non-letter symbols (emoji, curly quotes) dropped; apostrophes vanish.
std::vector<std::string> raw_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty())
      tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size() && i < max_text; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c <= ' ')
        flush();
      else if (c != '\'')
        cur += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (c == 0xC3 && i + 1 < text.size()) {
      fold_latin1(static_cast<unsigned char>(text[++i]), cur);
    } else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80
               && static_cast<unsigned char>(text[i + 2]) == 0x99) {
      i += 2; // right single quote: an apostrophe
    } else if (c >= 0xC0) {
      flush(); // any other non-ASCII character (emoji, symbols) separates words
    }
  }
  flush();
  return tokens;
}

bool is_email(const std::string& t) {
  auto at = t.find('@');
  return at != std::string::npos && at > 0 && t.find('.', at) != std::string::npos;
}

bool is_link(const std::string& t) {
  if (t.rfind("http", 0) == 0 || t.rfind("www.", 0) == 0)
    return true;
  for (const char* tld : {".com", ".net", ".org", ".co", ".io", ".info", ".link", ".ly/"})
    if (auto p = t.find(tld); p != std::string::npos && p > 0)
      return true;
  return false;
}

bool has_digit(const std::string& t) {
  for (char c : t)
    if (c >= '0' && c <= '9')
      return true;
  return false;
}

bool is_letter(char c) {
  return c >= 'a' && c <= 'z';
}

/// A token with digits keeps its shape: digits become 0, letters and the separators of dates,
/// times and amounts stay ("7:30pm" -> "0:00pm", "$1,200" -> "$0,000").
void append_numeric(const std::string& t, std::string& out) {
  std::string shape;
  for (char c : t) {
    if (c >= '0' && c <= '9')
      shape += '0';
    else if (is_letter(c) || c == '$' || c == '/' || c == ':' || c == '-' || c == '.' || c == ',')
      shape += c;
    else if (c == '?')
      shape += " ?";
  }
  while (!shape.empty() && (shape.back() == '.' || shape.back() == ',' || shape.back() == '-'))
    shape.pop_back();
  if (!shape.empty())
    out += shape + ' ';
}

void append_words(const std::string& t, std::string& out) {
  for (char c : t) {
    if (is_letter(c))
      out += c;
    else if (c == '?' || c == '$') {
      out += ' ';
      out += c;
      out += ' ';
    } else if (out.empty() || out.back() != ' ')
      out += ' ';
  }
  out += ' ';
}

/// Writes the corpus, normalized line by line, to a fresh temporary file (fastText trains from
/// a file) and returns its path.
std::string write_training_file(std::string_view corpus) {
  auto dir = std::filesystem::temp_directory_path().string();
  std::string path = dir + "/djdash-intents-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0)
    throw std::runtime_error("intent model: cannot create a temporary file in " + dir);
  ::close(fd);
  std::ofstream out(path, std::ios::trunc);
  std::istringstream in{std::string{corpus}};
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    if (line.rfind(label_prefix, 0) != 0)
      continue;
    auto space = line.find(' ');
    if (space == std::string::npos)
      continue;
    out << line.substr(0, space) << ' ' << normalize_sms(line.substr(space + 1)) << '\n';
    ++lines;
  }
  out.close();
  if (!out || lines == 0) {
    std::remove(path.c_str());
    throw std::runtime_error("intent model: no training lines could be written");
  }
  return path;
}

fasttext::Args training_args(const std::string& input, const intent_model_options& o) {
  fasttext::Args a;
  a.input = input;
  a.model = fasttext::model_name::sup;
  a.loss = fasttext::loss_name::softmax;
  a.minCount = 1;
  a.epoch = o.epoch;
  a.lr = o.lr;
  a.dim = o.dim;
  a.wordNgrams = o.word_ngrams;
  a.minn = o.minn;
  a.maxn = o.maxn;
  a.bucket = o.bucket;
  a.seed = o.seed;
  a.thread = 1;  // one thread: training is reproducible
  a.verbose = 0;
  return a;
}

} // namespace

std::string normalize_sms(std::string_view text) {
  std::string out;
  for (auto& t : raw_tokens(text)) {
    if (is_email(t))
      out += "emailaddr ";
    else if (is_link(t))
      out += "urladdr ";
    else if (has_digit(t))
      append_numeric(t, out);
    else
      append_words(t, out);
  }
  // One space between words, and "??" counts as one question mark.
  std::string clean;
  std::istringstream words{out};
  std::string w, prev;
  while (words >> w) {
    if (w == "?" && prev == "?")
      continue;
    if (!clean.empty())
      clean += ' ';
    clean += w;
    prev = w;
  }
  return clean;
}

struct intent_model::impl {
  fasttext::FastText ft;
};

intent_model::intent_model(std::string_view corpus, const intent_model_options& opts)
  : impl_(std::make_unique<impl>()) {
  auto path = write_training_file(corpus);
  try {
    impl_->ft.train(training_args(path, opts));
  } catch (...) {
    std::remove(path.c_str());
    throw;
  }
  std::remove(path.c_str());
}

intent_model::~intent_model() = default;

intent_prediction intent_model::predict(std::string_view text) const {
  // fastText reads words from a stream up to the newline; predictLine and the dictionary are
  // const, and each call has its own state, so concurrent calls are safe.
  std::istringstream in{normalize_sms(text) + "\n"};
  std::vector<std::pair<fasttext::real, std::string>> best;
  impl_->ft.predictLine(in, best, 1, 0.0);
  if (best.empty())
    return {"other", 0.0};
  auto label = best.front().second;
  if (label.rfind(label_prefix, 0) == 0)
    label.erase(0, label_prefix.size());
  return {label, static_cast<double>(best.front().first)};
}

std::shared_ptr<const intent_model> default_intent_model() {
  static const auto model = std::make_shared<const intent_model>(embedded_intent_corpus());
  return model;
}

} // namespace djdash::agents
