"""The azlmbr names O3DE builders use, for porting by changing one import.

    import azlmbr.asset.builder      ->   from kiln_builder import azlmbr
    import azlmbr.math, azlmbr.bus

after which azlmbr.asset.builder.JobProduct, azlmbr.math.Uuid_CreateString,
azlmbr.bus.Broadcast and azlmbr.asset.AssetId work as in O3DE. Only the
asset builder API is here; other azlmbr modules (the editor, the scene API)
have no meaning outside O3DE.
"""
import types

import kiln_builder as _kb

asset = types.ModuleType("kiln_builder.azlmbr.asset")
asset.builder = _kb
asset.AssetId = _kb.AssetId

math = types.ModuleType("kiln_builder.azlmbr.math")
math.Uuid = _kb.Uuid
math.Uuid_CreateString = _kb.Uuid_CreateString
math.Uuid_CreateName = _kb.Uuid_CreateName
math.Uuid_CreateRandom = _kb.Uuid_CreateRandom
math.Uuid_CreateNull = _kb.Uuid_CreateNull

bus = types.ModuleType("kiln_builder.azlmbr.bus")
bus.Broadcast = _kb.Broadcast
bus.Event = _kb.Event
