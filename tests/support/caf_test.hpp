#pragma once

// Include this instead of caf/test/dsl.hpp: the shipped dsl.hpp calls an undefined FAIL(...)
// from test_coordinator_fixture::request<T>() (TOOLCHAIN.md §3).

#include <caf/test/unit_test.hpp>
#ifndef FAIL
#  define FAIL(msg) CAF_FAIL(msg)
#endif
#include <caf/test/dsl.hpp>
