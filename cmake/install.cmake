# Installation: the library (exported as sluice::sluice), its public headers, a CMake package
# (find_package(sluice)) and a pkg-config file (sluice.pc). Included by the top-level
# CMakeLists.txt after every target exists.

include(CMakePackageConfigHelpers)

# The public headers use std::span (C++20), so consumers need C++20 too;
# say so on the target instead of leaving it to each consumer's CMAKE_CXX_STANDARD.
target_compile_features(sluice PUBLIC cxx_std_20)

set(SLUICE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sluice
    CACHE STRING "Where sluiceConfig.cmake is installed, relative to the prefix")
set_target_properties(sluice PROPERTIES EXPORT_NAME sluice)

# sluice_warnings is a PRIVATE link of sluice, but a static library records private links in its
# interface as $<LINK_ONLY:...>, which would drag the warning flags target into the export.
# It has nothing to link, so drop that entry rather than export our -Werror. The same goes for
# the layer libraries (CMakeLists.txt), whose code is inside libsluice already: their
# $<BUILD_INTERFACE:...> entries would be exported as empty $<LINK_ONLY:>.
get_target_property(sluice_interface_links sluice INTERFACE_LINK_LIBRARIES)
if(sluice_interface_links)
  list(REMOVE_ITEM sluice_interface_links "$<LINK_ONLY:sluice_warnings>")
  list(FILTER sluice_interface_links EXCLUDE REGEX "^\\$<LINK_ONLY:\\$<BUILD_INTERFACE:")
  set_target_properties(sluice PROPERTIES INTERFACE_LINK_LIBRARIES "${sluice_interface_links}")
endif()

install(TARGETS sluice
  EXPORT sluiceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sluice
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
# The Win32 personality: libsluice_win32 and its C headers in include/sluice/win32.
get_target_property(sluice_win32_interface_links sluice_win32 INTERFACE_LINK_LIBRARIES)
if(sluice_win32_interface_links)
  list(REMOVE_ITEM sluice_win32_interface_links "$<LINK_ONLY:sluice_warnings>")
  list(FILTER sluice_win32_interface_links EXCLUDE REGEX "^\\$<LINK_ONLY:\\$<BUILD_INTERFACE:")
  set_target_properties(sluice_win32 PROPERTIES INTERFACE_LINK_LIBRARIES "${sluice_win32_interface_links}")
endif()
install(TARGETS sluice_win32
  EXPORT sluiceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/win32/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice/win32
  FILES_MATCHING PATTERN "*.h")

install(EXPORT sluiceTargets NAMESPACE sluice:: DESTINATION ${SLUICE_INSTALL_CMAKEDIR})

# sluice::asio (header-only; its headers are among include/sluice above) in an export file of its
# own, which sluiceConfig.cmake loads only when it finds Asio on the consumer's machine: the
# Asio include directory of this build is not exported (BUILD_INTERFACE only).
if(TARGET sluice_asio)
  set_target_properties(sluice_asio PROPERTIES EXPORT_NAME asio)
  install(TARGETS sluice_asio EXPORT sluiceAsioTargets)
  install(EXPORT sluiceAsioTargets NAMESPACE sluice:: DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/sluiceFindAsio.cmake
          DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/sluiceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sluiceConfig.cmake
  INSTALL_DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
# 0.x: a minor release may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sluiceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sluiceConfig.cmake ${PROJECT_BINARY_DIR}/sluiceConfigVersion.cmake
  DESTINATION ${SLUICE_INSTALL_CMAKEDIR})

# pkg-config. libdir/includedir are written relative to ${prefix} when they are relative, so the
# file stays right under `cmake --install --prefix` (which changes the prefix after configure).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SLUICE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(SLUICE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SLUICE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SLUICE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(SLUICE_PC_PREFIX "@SLUICE_PC_PREFIX@")  # left for install time, see below
configure_file(${CMAKE_CURRENT_LIST_DIR}/sluice.pc.in ${PROJECT_BINARY_DIR}/sluice.pc.in.configured @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/sluice-win32.pc.in
  ${PROJECT_BINARY_DIR}/sluice-win32.pc.in.configured @ONLY)
# ${prefix} itself must follow `--prefix`, which is only known at install time.
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/sluice.pc.in.configured\" pc)
  string(REPLACE \"@SLUICE_PC_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/sluice.pc\" \"\${pc}\")
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/sluice.pc\")
  file(READ \"${PROJECT_BINARY_DIR}/sluice-win32.pc.in.configured\" pc)
  string(REPLACE \"@SLUICE_PC_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/sluice-win32.pc\" \"\${pc}\")
")

# The test: install into a temporary prefix and build and run a small consumer with
# find_package and with pkg-config. Sanitized builds pass their flags on, since the installed
# static library then needs the sanitizer runtime.
if(SLUICE_BUILD_TESTS)
  set(sluice_consumer_flags "")
  if(SLUICE_SANITIZE)
    set(sluice_consumer_flags "-fsanitize=${SLUICE_SANITIZE}")
  endif()
  if(TARGET sluice_asio)
    set(sluice_consumer_asio ON)
  else()
    set(sluice_consumer_asio OFF)
  endif()
  add_test(NAME Install.FindPackageAndPkgConfigConsumersBuildAndRun
    COMMAND ${CMAKE_COMMAND}
      -DBUILD_DIR=${PROJECT_BINARY_DIR}
      -DASIO=${sluice_consumer_asio}
      -DSOURCE_DIR=${PROJECT_SOURCE_DIR}/tests/install
      -DCONFIG=$<CONFIG>
      -DCXX=${CMAKE_CXX_COMPILER}
      -DCC=${CMAKE_C_COMPILER}
      -DEXTRA_FLAGS=${sluice_consumer_flags}
      -DGENERATOR=${CMAKE_GENERATOR}
      -P ${PROJECT_SOURCE_DIR}/tests/install/run_install_test.cmake)
  set_tests_properties(Install.FindPackageAndPkgConfigConsumersBuildAndRun PROPERTIES TIMEOUT 120)
endif()

# The machine namespace exists from boot, made by root (docs/security.md): systemd-tmpfiles
# reads this from <prefix>/lib/tmpfiles.d.
install(FILES ${PROJECT_SOURCE_DIR}/cmake/sluice-tmpfiles.conf
  DESTINATION lib/tmpfiles.d RENAME sluice.conf)
