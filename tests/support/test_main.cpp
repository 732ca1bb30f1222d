// The CAF unit-test engine and main(), linked once into every test binary.
#include <caf/test/unit_test_impl.hpp>
