# cmake --install: headers, libconveyor (shared and static), a CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/conveyor ${PROJECT_BINARY_DIR}/include/conveyor
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS conveyor_shared EXPORT conveyorTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS conveyor_static EXPORT conveyorStaticTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS conveyor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/conveyor)
install(EXPORT conveyorTargets NAMESPACE conveyor:: DESTINATION ${package_dir})
install(EXPORT conveyorStaticTargets NAMESPACE conveyor:: DESTINATION ${package_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/conveyorConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/conveyorConfig.cmake INSTALL_DESTINATION ${package_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/conveyorConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/conveyorConfig.cmake ${PROJECT_BINARY_DIR}/conveyorConfigVersion.cmake
        DESTINATION ${package_dir})
# The prefix relative to the .pc file, so that `cmake --install --prefix DIR` anywhere gives a working file.
file(RELATIVE_PATH pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
set(pc_prefix "\${pcfiledir}/${pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/conveyor.pc.in ${PROJECT_BINARY_DIR}/conveyor.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/conveyor.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
