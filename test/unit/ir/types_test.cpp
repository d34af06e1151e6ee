// Unit tests of types, literal conversion, sizes and durations.
#include "ir/types.h"

#include <gtest/gtest.h>

#include "ir/ir.h"

namespace pipec::ir {
namespace {

TEST(Types, AzureAliases) {
  EXPECT_EQ(parseType("uri_folder"), Type::Folder);
  EXPECT_EQ(parseType("uri_file"), Type::File);
  EXPECT_EQ(parseType("mltable"), Type::Table);
  EXPECT_EQ(parseType("integer"), Type::Int);
  EXPECT_EQ(parseType("number"), Type::Float);
  EXPECT_EQ(parseType("boolean"), Type::Bool);
  EXPECT_EQ(parseType("mlflow_model"), Type::Model);
  EXPECT_EQ(parseType("custom_model"), Type::Model);
  EXPECT_FALSE(parseType("uri_foldr").has_value());
}

TEST(Types, Assignability) {
  EXPECT_TRUE(isAssignable(Type::Int, Type::Float));
  EXPECT_FALSE(isAssignable(Type::Float, Type::Int));
  EXPECT_FALSE(isAssignable(Type::String, Type::Int));
  EXPECT_FALSE(isAssignable(Type::File, Type::Folder));
  EXPECT_FALSE(isAssignable(Type::Folder, Type::File));
  EXPECT_TRUE(isAssignable(Type::Model, Type::Folder));
  EXPECT_TRUE(isAssignable(Type::File, Type::Table));
}

TEST(Types, FloatsPrintShortestRoundTrip) {
  EXPECT_EQ(formatFloat(0.001), "0.001");
  EXPECT_EQ(formatFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatFloat(2.0), "2.0");
  EXPECT_EQ(formatFloat(1e300), "1e+300");
}

TEST(Types, ConvertLiterals) {
  ConvertError err;
  EXPECT_EQ(convertLiteral("10", Type::Int, err)->asInt(), 10);
  EXPECT_EQ(convertLiteral("-0x10", Type::Int, err), std::nullopt);
  EXPECT_EQ(convertLiteral("0x10", Type::Int, err)->asInt(), 16);
  EXPECT_EQ(convertLiteral("3.0", Type::Int, err)->asInt(), 3);
  EXPECT_FALSE(convertLiteral("3.5", Type::Int, err));
  EXPECT_EQ(err, ConvertError::WrongType);
  EXPECT_FALSE(convertLiteral("99999999999999999999", Type::Int, err));
  EXPECT_EQ(err, ConvertError::OutOfRange);
  EXPECT_FALSE(convertLiteral("1e999", Type::Int, err));
  EXPECT_EQ(err, ConvertError::OutOfRange);
  EXPECT_FALSE(convertLiteral("1e999", Type::Float, err));
  EXPECT_EQ(err, ConvertError::OutOfRange);
  EXPECT_EQ(convertLiteral("1", Type::Float, err)->asFloat(), 1.0);
  EXPECT_EQ(convertLiteral("True", Type::Bool, err)->asBool(), true);
  EXPECT_FALSE(convertLiteral("yes", Type::Bool, err));
  EXPECT_EQ(convertLiteral("x y", Type::String, err)->asString(), "x y");
}

TEST(Types, NaturalTypes) {
  EXPECT_EQ(naturalType("10", false), Type::Int);
  EXPECT_EQ(naturalType("10", true), Type::String);
  EXPECT_EQ(naturalType("1.8", false), Type::Float);
  EXPECT_EQ(naturalType("false", false), Type::Bool);
  EXPECT_EQ(naturalType("time-based", false), Type::String);
  EXPECT_EQ(naturalType("18446744073709551616", false), Type::Int);
}

TEST(Types, BatchSizesFollowOneRule) {
  auto count = [](const char* t) {
    auto b = parseBatchSize(t);
    return b && !b->bytes ? std::optional<std::uint64_t>(b->value)
                          : std::nullopt;
  };
  auto bytes = [](const char* t) {
    auto b = parseBatchSize(t);
    return b && b->bytes ? std::optional<std::uint64_t>(b->value)
                         : std::nullopt;
  };
  EXPECT_EQ(count("10"), 10u);
  EXPECT_EQ(count(" 3 "), 3u);
  EXPECT_EQ(bytes("10kb"), 10u * 1024);
  EXPECT_EQ(bytes("1.5mb"), 1536u * 1024);
  EXPECT_EQ(bytes("512b"), 512u);
  // A fraction or an exponent without a unit is neither a count nor a size.
  for (const char* bad : {"2.5", "2.0", "1e3", "0", "-1", "", "2.5b", "0kb",
                          "99999999999999999999", "kb", "ten"})
    EXPECT_FALSE(parseBatchSize(bad)) << bad;
}

TEST(Types, SizesAndDurations) {
  EXPECT_EQ(parseSize("10kb"), 10u * 1024);
  EXPECT_EQ(parseSize("1mb"), 1024u * 1024);
  EXPECT_EQ(parseSize("2 GB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parseSize("512"), 512u);
  EXPECT_FALSE(parseSize("10 parsecs"));
  EXPECT_FALSE(parseSize("kb"));
  EXPECT_EQ(parseDuration("60"), 60000u);
  EXPECT_EQ(parseDuration("60s"), 60000u);
  EXPECT_EQ(parseDuration("5m"), 300000u);
  EXPECT_EQ(parseDuration("250ms"), 250u);
  EXPECT_FALSE(parseDuration("soon"));
}

TEST(Constraints, RangeAndEnum) {
  Param p;
  p.name = "epochs";
  p.type = Type::Int;
  p.min = 1;
  p.max = 100;
  EXPECT_EQ(checkConstraints(p, Value::makeInt(5)), Violation::None);
  EXPECT_EQ(checkConstraints(p, Value::makeInt(0)), Violation::Range);
  EXPECT_EQ(describeConstraint(p, Violation::Range), "[1, 100]");
  Param s;
  s.type = Type::String;
  s.enum_values = {Value::makeString("adam"), Value::makeString("sgd")};
  EXPECT_EQ(checkConstraints(s, Value::makeString("sgd")), Violation::None);
  EXPECT_EQ(checkConstraints(s, Value::makeString("rmsprop")), Violation::Enum);
  EXPECT_EQ(describeConstraint(s, Violation::Enum), "one of 'adam', 'sgd'");
}

}  // namespace
}  // namespace pipec::ir
