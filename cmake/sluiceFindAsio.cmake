# Finds standalone Asio's headers (Debian: libasio-dev) for sluice::asio, in sluice's own build
# and, installed beside sluiceConfig.cmake, in projects that find_package(sluice).
#
#   sluice_find_asio(<found-var>)
#
# Sets <found-var> to TRUE when asio.hpp is found and is Asio 1.19 or newer (cancellation slots
# and awaitable operators arrived in 1.19), else FALSE. Leaves the header directory in the cache
# variable SLUICE_ASIO_INCLUDE_DIR (set it to use another Asio), the version (e.g. 102801) in
# SLUICE_ASIO_VERSION and, when not found, the reason in SLUICE_ASIO_WHY_NOT.
function(sluice_find_asio found_var)
  set(${found_var} FALSE PARENT_SCOPE)
  find_path(SLUICE_ASIO_INCLUDE_DIR asio.hpp DOC "Directory with standalone Asio's asio.hpp")
  if(NOT SLUICE_ASIO_INCLUDE_DIR OR NOT EXISTS ${SLUICE_ASIO_INCLUDE_DIR}/asio/version.hpp)
    set(SLUICE_ASIO_WHY_NOT "standalone Asio not found (apt-get install libasio-dev)" PARENT_SCOPE)
    return()
  endif()
  file(STRINGS ${SLUICE_ASIO_INCLUDE_DIR}/asio/version.hpp version_line
       REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" version "${version_line}")
  set(SLUICE_ASIO_VERSION ${version} PARENT_SCOPE)
  if(NOT version GREATER_EQUAL 101900)
    set(SLUICE_ASIO_WHY_NOT "Asio ${version} is older than 1.19" PARENT_SCOPE)
    return()
  endif()
  set(${found_var} TRUE PARENT_SCOPE)
endfunction()
