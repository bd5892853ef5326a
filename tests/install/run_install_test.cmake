# Installs the build tree into a temporary prefix, then builds and runs tests/install/consumer
# twice: with find_package(sluice) and with `$CXX main.cpp $(pkg-config --cflags --libs sluice)`;
# with -DASIO=ON also tests/install/asio_consumer (find_package(sluice COMPONENTS asio)).
# Run by ctest as `cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DCXX=... [-DEXTRA_FLAGS=...] -P`.

foreach(var BUILD_DIR SOURCE_DIR CXX GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()

set(work ${BUILD_DIR}/install-test)
set(prefix ${work}/prefix)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${what}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(config_args "")
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

# Configures, builds and runs the find_package consumer project in ${SOURCE_DIR}/<project>;
# its output is left in last_output.
function(find_package_consumer project executable)
  run("configure ${project} with find_package" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/${project}
      -B ${work}/${project}-build -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
  run("build ${project} with find_package" ${CMAKE_COMMAND} --build ${work}/${project}-build)
  run("run ${project}" ${work}/${project}-build/${executable})
  message(STATUS "  said: ${last_output}")
  set(last_output "${last_output}" PARENT_SCOPE)
endfunction()

find_package_consumer(consumer consumer)
# find_package(sluice COMPONENTS asio) and sluice::asio, when sluice was built with Asio.
if(ASIO)
  find_package_consumer(asio_consumer asio_consumer)
  if(NOT last_output MATCHES "installed sluice::asio works")
    message(FATAL_ERROR "Asio consumer said: ${last_output}")
  endif()
endif()

# pkg-config
file(GLOB_RECURSE pc_files ${prefix}/sluice.pc)
list(LENGTH pc_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one installed sluice.pc, found: ${pc_files}")
endif()
get_filename_component(pc_dir ${pc_files} DIRECTORY)
file(READ ${pc_files} pc_text)
if(NOT pc_text MATCHES "Libs:[^\n]*-lpthread")
  message(FATAL_ERROR "sluice.pc has no -lpthread in Libs:\n${pc_text}")
endif()
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run("pkg-config --cflags --libs sluice" pkg-config --cflags --libs sluice)
message(STATUS "  flags: ${last_output}")
run("build consumer with pkg-config" sh -c
    "\"$0\" ${EXTRA_FLAGS} \"$1\" -o \"$2\" $(pkg-config --cflags --libs sluice)"
    ${CXX} ${SOURCE_DIR}/consumer/main.cpp ${work}/pkg-config-consumer)
run("run pkg-config consumer" ${work}/pkg-config-consumer)
message(STATUS "  said: ${last_output}")

# The Win32 personality from C: `cc main.c $(pkg-config --cflags --libs sluice-win32)`, in an
# ANSI and a Unicode build (the latter takes its main() from the library and calls wmain).
if(DEFINED CC)
  run("pkg-config --cflags --libs sluice-win32" pkg-config --cflags --libs sluice-win32)
  message(STATUS "  flags: ${last_output}")
  foreach(defs "" "-DUNICODE -D_UNICODE")
    run("build C consumer with pkg-config sluice-win32 ${defs}" sh -c
        "\"$0\" ${EXTRA_FLAGS} ${defs} \"$1\" -o \"$2\" $(pkg-config --cflags --libs sluice-win32)"
        ${CC} ${SOURCE_DIR}/win32_consumer/main.c ${work}/win32-consumer)
    run("run C consumer" ${work}/win32-consumer)
    if(NOT last_output MATCHES "win32 ok")
      message(FATAL_ERROR "win32 consumer said: ${last_output}")
    endif()
  endforeach()
endif()
