"""The Gradio web demo: `talkinghead demo` (needs the demo extra: pip install 'talkinghead[demo]').

Only `command` is imported by the `talkinghead` CLI, and it imports gradio when the demo is
started, so importing talkinghead never imports gradio.
"""
