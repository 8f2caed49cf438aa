"""The commander's pages for closing a town's response, and the erase certificate."""
