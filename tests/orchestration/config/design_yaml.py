"""The YAML block of the original design document, kept verbatim (trailing spaces included)."""

DESIGN_YAML = """\
orchestration:
  arbiter:
    model: qwen2.5:14b
    server: ollama01
    role: coordinator
    
  specialists:
    coding:
      model: qwen2.5-coder:32b
      server: ollama02
      context_window: 16384
      
    reasoning:
      model: qwen2.5:32b
      server: ollama02
      context_window: 16384
      
    analysis:
      model: qwen2.5:14b
      server: ollama01
      context_window: 8192
      
    interpreter:
      model: functiongemma
      server: ollama01
      context_window: 8192
  
  routing:
    # When to use which model
    rules:
      - condition: "task.complexity > 7"
        specialist: reasoning
        
      - condition: "task.type == 'code_generation'"
        specialist: coding
        
      - condition: "task.requires_speed"
        specialist: analysis
        
      - condition: "response.unclear_tool_calls"
        specialist: interpreter
  
  conversation:
    max_models_per_conversation: 3
    include_full_history: false  # Arbiter filters context
    allow_model_to_model: true
    arbiter_reviews_all: true
"""
