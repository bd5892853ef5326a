// PipeEnd::security and set_security: the descriptor a server end checks its clients against.
#include <gtest/gtest.h>
#include <unistd.h>

#include "pipe_fixture.hpp"
#include "sluice/named_pipe.hpp"

namespace sluice {
namespace {

using NamedPipeSecurity = testing::PipeTest;

TEST_F(NamedPipeSecurity, AServerEndReportsItsDescriptorWithOwnerAndGroupFilledIn) {
  ServerOptions options;
  options.security = SecurityDescriptor::windows_default();
  auto server = ServerEnd::create(registry(), pipe_name(), options).value();
  auto sd = server.security().value();
  EXPECT_EQ(sd.owner, ::geteuid());
  EXPECT_EQ(sd.group, ::getegid());
  EXPECT_EQ(sd.rules, SecurityDescriptor::windows_default().rules);
  auto client = ClientEnd::open(registry(), pipe_name(), {}).value();
  EXPECT_EQ(client.security().error(), make_error_code(errc::kNotSupported));
  EXPECT_EQ(client.set_security(SecurityDescriptor::empty()).error(),
            make_error_code(errc::kNotSupported));
}

TEST_F(NamedPipeSecurity, SetSecurityDecidesForTheNextClientsAndKeepsTheOwner) {
  auto server = ServerEnd::create(registry(), pipe_name(), {}).value();
  ASSERT_TRUE(server.set_security(SecurityDescriptor::empty()));
  EXPECT_EQ(server.security().value().owner, ::geteuid());
  EXPECT_EQ(ClientEnd::open(registry(), pipe_name(), {}).error(),
            make_error_code(errc::kAccessDenied));
  ASSERT_TRUE(server.set_security(SecurityDescriptor::unrestricted()));
  EXPECT_TRUE(ClientEnd::open(registry(), pipe_name(), {}));
}

}  // namespace
}  // namespace sluice
