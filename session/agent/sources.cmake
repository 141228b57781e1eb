target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AgentProtocol.h
    ${CMAKE_CURRENT_LIST_DIR}/AgentProtocol.cpp)
