// Unit tests of the one name-to-environment mangling policy.
#include "ir/mangle.h"

#include <gtest/gtest.h>

namespace pipec::ir {
namespace {

TEST(Mangle, UpperCasesAndReplaces) {
  EXPECT_EQ(mangleName("learning-rate"), "LEARNING_RATE");
  EXPECT_EQ(mangleName("test_model"), mangleName("test-model"));
  EXPECT_EQ(mangleName("Test_Model"), "TEST_MODEL");
  EXPECT_EQ(mangleName("a.b c"), "A_B_C");
  EXPECT_EQ(inputEnvVar("train"), "PAI_INPUT_TRAIN");
  EXPECT_EQ(outputEnvVar("model"), "PAI_OUTPUT_MODEL");
  EXPECT_EQ(hpsEnvVar("batch-size"), "PAI_HPS_BATCH_SIZE");
}

}  // namespace
}  // namespace pipec::ir
