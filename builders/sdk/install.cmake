# install.cmake: the C builder SDK as an installable product (component "sdk").
#
#   cmake --install build --prefix /opt/kiln --component sdk
#
# installs include/kiln/{kiln_builder.h,arena.h,msg.h}, lib/libkiln_builder_sdk.a,
# lib/libkiln_common.a and lib/pkgconfig/kiln-builder.pc, so that a builder
# outside this tree builds with `pkg-config --cflags --libs kiln-builder`
# (see builders/examples/c). Included from the root CMakeLists.txt after the
# kiln_common and kiln_builder_sdk targets exist.
include(GNUInstallDirs)

# The three headers are the SDK's whole interface: kiln_builder.h includes
# arena.h and msg.h by quoted name, so they must sit in the same folder.
install(FILES
  ${CMAKE_SOURCE_DIR}/builders/sdk/kiln_builder.h
  ${CMAKE_SOURCE_DIR}/common/arena.h
  ${CMAKE_SOURCE_DIR}/common/msg.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln
  COMPONENT sdk)

# The SDK library and the common library it links (frames, messages, the
# arena). Both are static, so a builder is one self-contained executable.
install(TARGETS kiln_builder_sdk kiln_common
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  COMPONENT sdk)

# The .pc file finds its prefix from its own place (pcfiledir), so it stays
# right when `cmake --install --prefix` picks a prefix other than the one
# configured, and when the installed tree is moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(KILN_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(KILN_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH KILN_PC_UP "/kiln-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/kiln-prefix")
  string(REGEX REPLACE "/$" "" KILN_PC_UP "${KILN_PC_UP}")
  set(KILN_PC_PREFIX "\${pcfiledir}/${KILN_PC_UP}")
  set(KILN_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(KILN_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(KILN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# Objects built with sanitizers need their runtimes at link time.
set(KILN_PC_EXTRA_LIBS "")
if(KILN_SANITIZE)
  set(KILN_PC_EXTRA_LIBS " -fsanitize=address,undefined")
endif()
if(PROJECT_VERSION)
  set(KILN_PC_VERSION "${PROJECT_VERSION}")
else()
  set(KILN_PC_VERSION "0.1")
endif()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/kiln-builder.pc @ONLY CONTENT "\
prefix=@KILN_PC_PREFIX@
libdir=@KILN_PC_LIBDIR@
includedir=@KILN_PC_INCLUDEDIR@

Name: kiln-builder
Description: kiln's C SDK for builders: the builder protocol (frames, messages) behind kb_main()
Version: @KILN_PC_VERSION@
Requires: msgpack
Cflags: -I\${includedir}/kiln
Libs: -L\${libdir} -lkiln_builder_sdk -lkiln_common@KILN_PC_EXTRA_LIBS@
")
install(FILES ${CMAKE_BINARY_DIR}/kiln-builder.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT sdk)
