#pragma once

// The statistical half of the SMS classifier: a fastText supervised model over the labelled
// corpus in agents/corpus/intents_train.txt (compiled into the binary), trained in-process.
// Rules (opt-out keywords, entities) live elsewhere; see agents/classifier.hpp.

#include <memory>
#include <string>
#include <string_view>

namespace djdash::agents {

/// The six intents of AGENTS.md, in a fixed order (evaluation tables use it).
inline constexpr const char* intent_names[]
  = {"availability", "pricing", "booking", "followup", "other", "optout"};

/// Returns the embedded training corpus: fastText lines `__label__<intent> <text>`.
std::string_view embedded_intent_corpus();

/// Returns `text` as the model sees it, for training and prediction alike: ASCII lower case,
/// accented letters folded, emoji and other symbols dropped, apostrophes removed ("don't" ->
/// "dont"), e-mail addresses and links replaced by the words `emailaddr` / `urladdr`, every digit
/// mapped to 0 while keeping the shape of dates, times and amounts ("6/14" -> "0/00", "$500" ->
/// "$000"), "?" and "$" kept as words, every other punctuation mark a separator.
std::string normalize_sms(std::string_view text);

/// Training knobs; the defaults were tuned on the held-out set (README, "SMS classifier").
struct intent_model_options {
  int epoch = 60;
  double lr = 0.3;
  int dim = 16;
  int word_ngrams = 2;
  int minn = 3;        // character n-grams from minn to maxn letters absorb typos
  int maxn = 4;
  int bucket = 200000; // hash buckets for word and character n-grams
  int seed = 7;        // with one thread, the same seed gives the same model
};

struct intent_prediction {
  std::string intent;       // one of intent_names
  double probability = 0.0; // the model's softmax probability of that intent
};

/// A trained model. Immutable after construction: `predict` may run on many threads at once.
class intent_model {
public:
  /// Trains on `corpus` (fastText lines, normalized here with normalize_sms). Throws
  /// std::runtime_error when the corpus is empty or a temporary file cannot be written.
  explicit intent_model(std::string_view corpus, const intent_model_options& opts = {});
  ~intent_model();
  intent_model(const intent_model&) = delete;
  intent_model& operator=(const intent_model&) = delete;

  /// Returns the most probable intent for a customer text (any UTF-8; never throws on input).
  intent_prediction predict(std::string_view text) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Returns the process-wide model trained on the embedded corpus with the default options,
/// trained on the first call (about a second) and shared afterwards.
std::shared_ptr<const intent_model> default_intent_model();

} // namespace djdash::agents
