# Writes a C++ file holding the intent training corpus (run at build time by CMakeLists.txt), so
# a node trains its classifier without depending on its working directory.
# Input: FILE (agents/corpus/intents_train.txt), OUT (the .cpp to write).
# The text is cut into pieces of at most 2000 bytes: ISO C++ only promises string literals of
# 4095 characters, and -Wpedantic warns beyond that.
file(READ ${FILE} text)
if(text MATCHES "\\)djdash_corpus\"")
  message(FATAL_ERROR "${FILE} contains the raw-string delimiter )djdash_corpus\"")
endif()
string(LENGTH "${text}" size)
if(size EQUAL 0)
  message(FATAL_ERROR "${FILE} is empty")
endif()
set(body "// Generated from ${FILE}: do not edit.\n#include \"agents/intent_model.hpp\"\n\n#include <string>\n\nnamespace djdash::agents {\n\nstd::string_view embedded_intent_corpus() {\n  static const char* const pieces[] = {\n")
set(pos 0)
while(pos LESS size)
  string(SUBSTRING "${text}" ${pos} 2000 piece)
  set(body "${body}    R\"djdash_corpus(${piece})djdash_corpus\",\n")
  math(EXPR pos "${pos} + 2000")
endwhile()
set(body "${body}  };\n  static const std::string all = [] {\n    std::string s;\n    for (const char* p : pieces)\n      s += p;\n    return s;\n  }();\n  return all;\n}\n\n} // namespace djdash::agents\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
