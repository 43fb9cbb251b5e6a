"""The console's pages, one module per noun (each an ``APIRouter`` of :class:`ConsoleRoute`)."""
