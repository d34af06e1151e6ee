// ir::Box: std::optional's behaviour with the value on the heap.
#include "ir/box.h"

#include <gtest/gtest.h>

#include <string>

namespace pipec::ir {
namespace {

TEST(Box, CopiesTheValueAndMovesThePointer) {
  Box<std::string> empty;
  EXPECT_FALSE(empty);
  EXPECT_FALSE(empty.has_value());

  Box<std::string> a = std::optional<std::string>("settings");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "settings");
  EXPECT_EQ(a->size(), 8u);

  Box<std::string> copy = a;
  ASSERT_TRUE(copy);
  EXPECT_NE(copy.get(), a.get());  // a copy of the value, not of the pointer
  copy->append("!");
  EXPECT_EQ(*a, "settings");
  EXPECT_EQ(*copy, "settings!");

  const std::string* where = copy.get();
  Box<std::string> moved = std::move(copy);
  EXPECT_EQ(moved.get(), where);

  moved = std::nullopt;
  EXPECT_FALSE(moved);
  moved = std::optional<std::string>("again");
  ASSERT_TRUE(moved);
  EXPECT_EQ(*moved, "again");
  moved.emplace(3, 'x');
  EXPECT_EQ(*moved, "xxx");
  moved.reset();
  EXPECT_FALSE(moved);

  a = a;  // NOLINT: self-assignment keeps the value
  EXPECT_EQ(*a, "settings");
}

}  // namespace
}  // namespace pipec::ir
